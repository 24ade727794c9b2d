/** Every Lambda of serverless.yml: function name → its entry file. The build makes dist/<name>.js from each. */
export const FUNCTIONS: Record<string, string> = {
  api: 'functions/http-api.ts',
  checkStatus: 'functions/check-status.ts',
};
