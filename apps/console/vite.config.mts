import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The page builds to dist/public, which the console's own server serves
// (with the /api proxy). In `npm run dev`, Vite proxies /api the same way.
const subscriptions = process.env.SUBSCRIPTIONS_URL ?? 'http://127.0.0.1:4002';
const delivery = process.env.DELIVERY_URL ?? 'http://127.0.0.1:4003';

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist/public', emptyOutDir: true, sourcemap: true, target: 'es2022' },
  server: {
    proxy: {
      '/api/subscriptions': { target: subscriptions, rewrite: (p) => p.replace(/^\/api\/subscriptions/, '') },
      '/api/delivery': { target: delivery, rewrite: (p) => p.replace(/^\/api\/delivery/, '') },
    },
  },
});
