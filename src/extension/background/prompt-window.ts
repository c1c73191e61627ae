// The prompt window (docs/design.md#decide): a small popup window showing the prompt page for one question. The
// answer comes back through UiApi.answerPrompt into the brain's prompt store; this module only opens the
// window and closes it once the question is settled (answered or timed out).
import type { PromptAnswer, PromptRequest } from '../model/model.ts';
import { type PromptStore, promptVia } from './prompts.ts';
import type { KeyValueStorage } from './storage.ts';

const PROMPT_PAGE = 'src/extension/ui/prompt/index.html';
const PREFIX = 'prompt-window:';

interface PromptWindowDeps {
  prompts: PromptStore;
  /** storage.session: which window shows which prompt (survives a worker restart). */
  storage: KeyValueStorage;
  getURL(path: string): string;
  createWindow(o: {
    type: 'popup';
    url: string;
    width: number;
    height: number;
    focused: boolean;
  }): Promise<{ id?: number }>;
  removeWindow(id: number): Promise<void>;
  timeoutMs: number;
}

/** The autopilot's `prompt` dependency: store the question, open its window, wait, then close the window. */
export function promptWithWindow(deps: PromptWindowDeps): (request: PromptRequest) => Promise<PromptAnswer> {
  const open = async (id: string) => {
    const w = await deps.createWindow({
      type: 'popup',
      url: deps.getURL(`${PROMPT_PAGE}?id=${encodeURIComponent(id)}`),
      width: 420,
      height: 600,
      focused: true,
    });
    if (w.id !== undefined) await deps.storage.set(PREFIX + id, w.id);
  };
  const ask = promptVia(deps.prompts, open, deps.timeoutMs);
  return async (request) => {
    try {
      return await ask(request);
    } finally {
      const id = await deps.storage.get<number>(PREFIX + request.id);
      await deps.storage.remove(PREFIX + request.id);
      if (id !== undefined) await deps.removeWindow(id).catch(() => {}); // the page may have closed itself
    }
  };
}
