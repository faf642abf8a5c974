/**
 * The worker thread behind `renderChartSync` (render.ts): renders each posted spec with
 * `renderChart`, answers on the message's port, then raises the shared flag and wakes the waiting
 * thread.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { renderChart, type RenderOptions } from './render.js';
import type { ChartSpec } from '../report/chart.js';

const flag = (workerData as { flag: Int32Array }).flag;

parentPort!.on('message', (m: { spec: ChartSpec; opts: RenderOptions; port: MessagePort }) => {
  const done = (msg: unknown, transfer: ArrayBuffer[] = []) => {
    m.port.postMessage(msg, transfer);
    m.port.close();
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  renderChart(m.spec, m.opts).then(
    (r) => {
      const png = new Uint8Array(r.png);
      done({ ok: true, svg: r.svg, png, width: r.width, height: r.height }, [png.buffer]);
    },
    (e: unknown) => done({ ok: false, error: e instanceof Error ? e.message : String(e) }),
  );
});
