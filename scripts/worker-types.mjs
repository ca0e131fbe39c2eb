// `walden/worker` is a side-effect entry (it exposes the engine); its declaration says so.
import { writeFileSync } from 'node:fs';

writeFileSync('dist/worker.d.ts', '/** Importing this module turns the current dedicated worker into a Walden engine host. */\nexport {};\n');
