/** A chart element: one ECharts instance per mount, resized with its box, option applied on change. */
import { useEffect, useRef } from 'preact/hooks';
import { echarts, type EChartsOption } from '../charts.ts';

export interface EChartProps {
  option: EChartsOption;
  class?: string;
  /** Replace the whole option instead of merging (when series come and go). */
  notMerge?: boolean;
  onReady?: (chart: echarts.ECharts) => void;
  onResize?: (chart: echarts.ECharts, width: number, height: number) => void;
  onClick?: (params: { seriesId?: string; data?: unknown; value?: unknown }) => void;
  label?: string;
}

export function EChart(props: EChartProps) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<echarts.ECharts | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const dom = el.current!;
    const c = echarts.init(dom, undefined, { renderer: 'canvas' });
    chart.current = c;
    c.on('click', (p) => latest.current.onClick?.(p as never));
    const ro = new ResizeObserver(() => {
      if (c.isDisposed()) return;
      c.resize();
      latest.current.onResize?.(c, dom.clientWidth, dom.clientHeight);
    });
    ro.observe(dom);
    latest.current.onReady?.(c);
    return () => { ro.disconnect(); c.dispose(); chart.current = null; };
  }, []);

  useEffect(() => {
    chart.current?.setOption(props.option, { notMerge: props.notMerge ?? false, lazyUpdate: true });
  }, [props.option]);

  return <div ref={el} class={`echart ${props.class ?? ''}`} role="img" aria-label={props.label} />;
}
