// A tiny loader hook over `call`: one place that turns a pending/failed call into UI state, so no page renders
// blank when the background is unreachable (it shows the error instead).
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ArgOf, MethodOf, ResultOf, UiApi } from '../../messaging/protocol.ts';
import { call, errorText } from './api.ts';

interface Loaded<T> {
  data: T | null;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
  set: (value: T) => void;
}

export function useApi<K extends MethodOf<UiApi>>(
  method: K,
  arg: ArgOf<UiApi, K> | null,
  deps: readonly unknown[] = [],
): Loaded<ResultOf<UiApi, K>> {
  const [data, setData] = useState<ResultOf<UiApi, K> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  // `arg` is rebuilt on each render by callers; `deps` says when it really changed.
  const reload = useCallback(async () => {
    if (arg === null) return;
    setLoading(true);
    try {
      setData(await call(method, arg));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  }, [method, ...deps]);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, set: setData };
}
