/** For `npx vite dashboard/web` (dev server with hot reload, proxying the API of a platform on :8080). */
import { webViteConfig } from './build.ts';

export default webViteConfig();
