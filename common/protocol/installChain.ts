/**
 * The host's installs, one at a time, in the order they were handed over: a release verified while
 * another is installing waits for that install (two at once race for the model in use, and the older
 * one can finish last and stay). When nothing is installing, the work starts at once, in the caller's
 * turn, so the host sees the release in the same turn as the receiver's 'complete' event.
 */
export class InstallChain {
  private tail: Promise<void> | undefined;

  run(work: () => Promise<void>): Promise<void> {
    const started = this.tail ? this.tail.then(work) : work();
    const tail = started.catch(() => undefined);
    this.tail = tail;
    void tail.then(() => {
      if (this.tail === tail) this.tail = undefined;
    });
    return started;
  }
}
