// An init context that never ends: SIGTERM still stops the run.
for (;;) {}
export default function () {}
