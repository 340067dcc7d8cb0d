#!/usr/bin/env node
// The `aquawatch` command. The code is TypeScript run through tsx's loader (no build step), so the
// same sources run in development, in tests and in production.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
