/** Polls `check` every `everyMs` until it passes or `ms` elapse (then its last failure is thrown). */
export async function eventually(check: () => Promise<void>, ms: number, everyMs = 1000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
