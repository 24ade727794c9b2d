import { expect } from 'vitest';

interface Text {
  type: string;
  text: string;
}
/** A button (text object as its label) or a context element (text as a string). */
interface Element {
  type: string;
  text?: string | Text;
  action_id?: string;
  url?: string;
}
interface Block {
  type: string;
  text?: Text;
  accessory?: Element;
  elements?: Element[];
}

/**
 * Asserts a message keeps to Slack's documented Block Kit limits, as Slack would enforce them
 * when it is posted: 50 blocks, text and button lengths, unique action ids, http(s) links only.
 */
export function expectValidBlockKit(
  message: { blocks: readonly object[]; text: string },
  actionIdPattern?: RegExp,
): void {
  expect(message.text.length, 'fallback text').toBeGreaterThan(0);
  expect(message.text.length).toBeLessThanOrEqual(40_000);
  expect(message.blocks.length).toBeLessThanOrEqual(50);
  const actionIds: string[] = [];
  const button = (element: Element) => {
    expect(element.type).toBe('button');
    expect(element.action_id?.length ?? 0).toBeGreaterThan(0);
    expect(element.action_id?.length ?? 0).toBeLessThanOrEqual(255);
    actionIds.push(element.action_id ?? '');
    const label = element.text as Text | undefined;
    expect(label?.type).toBe('plain_text');
    expect(label?.text.length ?? 0).toBeLessThanOrEqual(75);
    if (element.url !== undefined) {
      expect(element.url).toMatch(/^https?:\/\//);
      expect(element.url.length).toBeLessThanOrEqual(3000);
    }
  };
  for (const block of message.blocks as Block[]) {
    expect(['header', 'section', 'actions', 'context', 'divider']).toContain(block.type);
    if (block.type === 'header') {
      expect(block.text?.type).toBe('plain_text');
      expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(150);
    }
    if (block.type === 'section') {
      expect(['mrkdwn', 'plain_text']).toContain(block.text?.type);
      expect(block.text?.text.length ?? 0).toBeGreaterThan(0);
      expect(block.text?.text.length ?? 0).toBeLessThanOrEqual(3000);
      if (block.accessory) button(block.accessory);
    }
    if (block.type === 'actions') {
      expect(block.elements?.length ?? 0).toBeGreaterThan(0);
      expect(block.elements?.length ?? 0).toBeLessThanOrEqual(25);
      for (const element of block.elements ?? []) button(element);
    }
    if (block.type === 'context') {
      expect(block.elements?.length ?? 0).toBeGreaterThan(0);
      expect(block.elements?.length ?? 0).toBeLessThanOrEqual(10);
      for (const element of block.elements ?? []) {
        expect(String(element.text ?? '').length).toBeLessThanOrEqual(3000);
      }
    }
  }
  expect(new Set(actionIds).size, 'action ids are unique').toBe(actionIds.length);
  if (actionIdPattern) for (const id of actionIds) expect(id).toMatch(actionIdPattern);
}
