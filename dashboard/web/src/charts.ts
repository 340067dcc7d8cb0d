/**
 * ECharts, tree-shaken: only the charts and components the control room draws are registered here
 * (the reports view registers its bar chart itself, in its own lazily loaded chunk).
 */
import * as echarts from 'echarts/core';
import { LineChart, ScatterChart, LinesChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, MarkLineComponent, LegendComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, ScatterChart, LinesChart, GridComponent, TooltipComponent, MarkLineComponent, LegendComponent, CanvasRenderer]);

export { echarts };
export type EChartsOption = Parameters<echarts.ECharts['setOption']>[0];

/** Colours of the areas' states, shared by the map, the tiles and the tables. */
export const STATE_COLORS: Record<string, string> = {
  normal: '#3fb950', low_pressure: '#d29922', burst: '#f85149', outage: '#a371f7',
};
export const SERIES_COLORS = ['#58a6ff', '#f0883e', '#3fb950', '#d2a8ff', '#ffa657', '#79c0ff', '#ff7b72', '#56d4dd'];
