/** The three statuses a stored result can have (README "The check report"). */
export type Status = 'OK' | 'INVALID' | 'NOT_IN_GONG';

/** One stored check of one user, as `GET /v1/users/{email}` and its history answer it. */
export interface StoredResult {
  email: string;
  status: Status;
  valid?: boolean;
  exists?: boolean;
  userFacingError?: string;
  fixUrl?: string;
  checkedAt: string;
}

/** One row of `GET /v1/users?status=…`. */
export interface ListedUser extends StoredResult {
  since?: string;
}

/** One page of `GET /v1/users?status=…`. */
export interface UserPage {
  items: ListedUser[];
  nextCursor?: string;
}

/** `GET /v1/users/{email}/history`. */
export interface UserHistory {
  email: string;
  items: StoredResult[];
  nextCursor?: string;
}

/** One cause that breaks users, from `GET /v1/problems`. */
export interface Problem {
  key: string;
  scope: 'company' | 'user';
  message: string;
  fixUrl?: string;
  count: number;
  emails: string[];
  since: string;
}

/** One day of `GET /v1/stats/daily`. */
export interface DailyCounts {
  date: string;
  ok: number;
  invalid: number;
  notInGong: number;
}
