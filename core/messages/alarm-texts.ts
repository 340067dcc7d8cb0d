/**
 * Alarm texts as a message code and parameters, rendered in the reader's language (zh-CN or en):
 * detectors emit `{ code, params }`, the dashboard renders it in its user's language and the
 * notifier in each recipient's. Pure data and string work, so the web app uses the same catalog.
 *
 * A parameter whose value starts with `@` names a term (a quality parameter, a reason), translated
 * too; numbers arrive already rounded as they are to be shown.
 */
import { INGEST_TEXTS, INGEST_TYPE_NAMES } from './ingest-texts.ts';

export type TextLanguage = 'zh-CN' | 'en';
export type TextParams = Record<string, string | number>;

/** An alarm's text: a code of ALARM_TEXTS and its parameters. */
export interface AlarmText { code: string; params: TextParams }

type Texts = Record<TextLanguage, string>;

export const ALARM_TEXTS = {
  'burst.raise': {
    en: 'Possible burst in DMA {dma}: net inflow {flow} m³/h above its baseline ({share} % of mean inflow)',
    'zh-CN': '{dma} 分区疑似爆管:净进水量高于基线 {flow} m³/h(平均进水量的 {share} %)',
  },
  'burst.raise_located': {
    en: 'Possible burst in DMA {dma}: net inflow {flow} m³/h above its baseline ({share} % of mean inflow), largest pressure drop at {sensor} ({dropKpa} kPa)',
    'zh-CN': '{dma} 分区疑似爆管:净进水量高于基线 {flow} m³/h(平均进水量的 {share} %),{sensor} 处压降最大({dropKpa} kPa)',
  },
  'burst.raise_unconfirmed': {
    en: 'Possible burst in DMA {dma}: net inflow {flow} m³/h above its baseline ({share} % of mean inflow); no pressure drop confirms it yet',
    'zh-CN': '{dma} 分区疑似爆管:净进水量高于基线 {flow} m³/h(平均进水量的 {share} %);尚无压降印证',
  },
  'burst.clear': { en: 'Burst in DMA {dma} over: net inflow back to its baseline', 'zh-CN': '{dma} 分区爆管结束:净进水量回到基线' },

  'new_leak.raise': {
    en: 'New leak suspected in DMA {dma}: minimum night flow {mnf} m³/h, {rise} m³/h ({risePct} %) above its recent nights',
    'zh-CN': '{dma} 分区疑似新增漏损:最小夜间流量 {mnf} m³/h,比近几夜高 {rise} m³/h({risePct} %)',
  },
  'new_leak.clear': { en: 'Night flow in DMA {dma} back to its earlier level', 'zh-CN': '{dma} 分区夜间流量回到此前水平' },
  'new_leak.accepted': {
    en: 'Night-flow rise of {rise} m³/h in DMA {dma} accepted by the dispatcher as a change of use (not a leak); reference re-based',
    'zh-CN': '{dma} 分区夜间流量上升 {rise} m³/h 已由调度员确认为用水变化(非漏损);基准已重设',
  },
  'new_leak.persists': {
    en: 'Leak in DMA {dma} persists: minimum night flow {mnf} m³/h, {rise} m³/h above its earlier nights',
    'zh-CN': '{dma} 分区漏损持续:最小夜间流量 {mnf} m³/h,比此前几夜高 {rise} m³/h',
  },

  'leak_trend.raise': {
    en: 'Slow leak in DMA {dma}: night flow {leak} m³/h above the level of the tight network, growing since {start}',
    'zh-CN': '{dma} 分区缓慢漏损:夜间流量比管网无漏时高 {leak} m³/h,自 {start} 起增长',
  },
  'leak_trend.raise_on_known': {
    en: 'Another slow leak in DMA {dma}: night flow {leak} m³/h above the level with its known slow leaks ({known} m³/h, stopped growing), growing since {start}',
    'zh-CN': '{dma} 分区又一处缓慢漏损:夜间流量比计入已知缓慢漏损(共 {known} m³/h,已停止增长)后的水平高 {leak} m³/h,自 {start} 起增长',
  },
  'leak_trend.persists': {
    en: 'Slow leak in DMA {dma} persists: {leak} m³/h above the level of the tight network (since {start})',
    'zh-CN': '{dma} 分区缓慢漏损持续:比管网无漏时高 {leak} m³/h(自 {start} 起)',
  },
  'leak_trend.settled': {
    en: 'Slow leak in DMA {dma} stopped growing: {leak} m³/h (since {start}); it stays open until repaired, and a further rise is raised as another leak',
    'zh-CN': '{dma} 分区缓慢漏损已停止增长:{leak} m³/h(自 {start} 起);修复前保持告警,此后的继续上升将作为另一处漏损告警',
  },
  'leak_trend.clear': {
    en: 'Slow leak in DMA {dma} repaired: night flow dropped; reference re-based at {reference} m³/h',
    'zh-CN': '{dma} 分区缓慢漏损已修复:夜间流量回落,基准重设为 {reference} m³/h',
  },
  'leak_trend.accepted': {
    en: 'Night-flow rise in DMA {dma} accepted by the dispatcher as a change of use (not a leak); reference re-based at {reference} m³/h',
    'zh-CN': '{dma} 分区夜间流量上升已由调度员确认为用水变化(非漏损);基准重设为 {reference} m³/h',
  },
  'abrupt_leak.raise': {
    en: 'Leak in DMA {dma}: net demand stepped up by {size} m³/h at {start} and was still up the next night',
    'zh-CN': '{dma} 分区漏损:净用水量于 {start} 上升 {size} m³/h,次日夜间仍未回落',
  },
  'abrupt_leak.raise_nights': {
    en: 'Leak in DMA {dma}: net demand stepped up by about {size} m³/h at {start}; the {nights} nights since have stayed up by that much on average',
    'zh-CN': '{dma} 分区漏损:净用水量于 {start} 上升约 {size} m³/h,此后 {nights} 个夜间平均仍高出该值',
  },
  'abrupt_leak.outlived_burst': {
    en: 'Leak in DMA {dma}: the burst that began at {start} was cleared, but net demand was still {size} m³/h up the next night',
    'zh-CN': '{dma} 分区漏损:{start} 开始的爆管告警已消除,但次日夜间净用水量仍高出 {size} m³/h',
  },
  'abrupt_leak.reported': {
    en: 'Possible leak in DMA {dma}: net demand stepped up by {size} m³/h at {start} and has held for hours; the next night confirms it',
    'zh-CN': '{dma} 分区疑似漏损:净用水量于 {start} 上升 {size} m³/h 并已持续数小时,待次日夜间确认',
  },
  'abrupt_leak.reported_split': {
    en: 'Possible leak in DMA {dma}: net demand stepped up by {size} m³/h at {start}, and the share of the inflow from inlet {inlet} rose by {sharePct} percentage points (the leak draws from near it); the next night confirms it',
    'zh-CN': '{dma} 分区疑似漏损:净用水量于 {start} 上升 {size} m³/h,进水口 {inlet} 的供水占比上升 {sharePct} 个百分点(漏点靠近该进水口),待次日夜间确认',
  },
  'abrupt_leak.retracted': {
    en: 'Possible leak of {size} m³/h in DMA {dma} withdrawn: the step did not last through the night',
    'zh-CN': '{dma} 分区 {size} m³/h 的疑似漏损已撤销:上升未持续到夜间',
  },
  'abrupt_leak.accepted': {
    en: 'Step of {size} m³/h in DMA {dma} accepted by the dispatcher as a change of use (not a leak); references re-based',
    'zh-CN': '{dma} 分区 {size} m³/h 的用水上升已由调度员确认为用水变化(非漏损);基准已重设',
  },
  'abrupt_leak.clear': {
    en: 'Leak of {size} m³/h in DMA {dma} repaired: net demand stepped back down and stayed down through the night',
    'zh-CN': '{dma} 分区 {size} m³/h 的漏损已修复:净用水量回落并在夜间保持',
  },

  'repair_unconfirmed.raise_flow': {
    en: 'Repair in DMA {dma} not confirmed by the flow: work order {workOrder} was resolved on {reported}, and {nights} nights later its {leakType} alarm is still raised ({leak} m³/h); the repair may have missed the leak, or another leak runs nearby',
    'zh-CN': '{dma} 分区修复未获流量印证:工单 {workOrder} 于 {reported} 报修复,{nights} 夜后其{leakType}告警仍未消除({leak} m³/h);可能未修到漏点,或附近另有漏损',
  },
  'repair_unconfirmed.raise': {
    en: 'Repair in DMA {dma} not confirmed by the flow: work order {workOrder} was resolved on {reported}, and {nights} nights later its {leakType} alarm is still raised; the repair may have missed the leak, or another leak runs nearby',
    'zh-CN': '{dma} 分区修复未获流量印证:工单 {workOrder} 于 {reported} 报修复,{nights} 夜后其{leakType}告警仍未消除;可能未修到漏点,或附近另有漏损',
  },
  'repair_unconfirmed.clear': {
    en: 'The {leakType} alarm of work order {workOrder} in DMA {dma} has cleared: the flow no longer contradicts the repair',
    'zh-CN': '{dma} 分区工单 {workOrder} 的{leakType}告警已消除:流量不再与修复相矛盾',
  },

  'pressure_low.raise': {
    en: 'Pressure at {sensor} below the minimum service pressure: {value} MPa < {limit} MPa',
    'zh-CN': '{sensor} 压力低于最低服务压力:{value} MPa < {limit} MPa',
  },
  'pressure_low.clear': { en: 'Pressure at {sensor} back above {limit} MPa', 'zh-CN': '{sensor} 压力回升至 {limit} MPa 以上' },
  'pressure_drop.raise': { en: 'Rapid pressure drop at {sensor}: {drop} MPa in {minutes} min', 'zh-CN': '{sensor} 压力骤降:{minutes} 分钟内下降 {drop} MPa' },
  'pressure_drop.clear': { en: 'Pressure at {sensor} recovered', 'zh-CN': '{sensor} 压力已恢复' },
  'pressure_deviation.raise': {
    en: 'Pressure at {sensor} {direction} its usual level for this time of week by {deviation} MPa',
    'zh-CN': '{sensor} 压力{direction}本周同时段常值 {deviation} MPa',
  },
  'pressure_deviation.clear': { en: 'Pressure at {sensor} back to its usual level', 'zh-CN': '{sensor} 压力回到常值' },
  'pressure.withdrawn': { en: 'Pressure at {sensor}: {reason}, condition withdrawn', 'zh-CN': '{sensor} 压力:{reason},条件撤销' },
  'pressure.secondary': { en: 'Pressure at {sensor}: secondary effect of {parent}', 'zh-CN': '{sensor} 压力:{parent} 的次生影响' },
  'network_event.raise': {
    en: 'Network event: pressure changed at {sensors} sensors in {dmas} at once (a valve operation, pump trip or change of plant pressure?)',
    'zh-CN': '管网事件:{dmas} 的 {sensors} 个测点压力同时变化(阀门操作、水泵跳闸或出厂压力调整?)',
  },
  'network_event.raise_planned': {
    en: 'Network event: pressure changed at {sensors} sensors in {dmas} at once; explained by planned operation {planned}',
    'zh-CN': '管网事件:{dmas} 的 {sensors} 个测点压力同时变化;由计划作业 {planned} 引起',
  },
  'network_event.clear': { en: 'Network event over: pressure back to normal at its {sensors} sensors', 'zh-CN': '管网事件结束:{sensors} 个测点压力恢复正常' },
  'leak_candidate.raise': {
    en: 'Leak candidate in DMA {dma}: pressure at {sensor} {residualKpa} kPa below what the other loggers predict, for {hours} h (nearest logger first in the evidence)',
    'zh-CN': '{dma} 分区疑似漏损:{sensor} 压力比其他测点推算值低 {residualKpa} kPa,已持续 {hours} 小时(证据中按离漏点远近排列测点)',
  },
  'leak_candidate.clear': { en: 'Leak candidate in DMA {dma} over: pressures back to what the model predicts', 'zh-CN': '{dma} 分区疑似漏损结束:压力回到模型推算值' },
  'pressure.unlinked': { en: 'Pressure at {sensor}: no longer linked to a burst', 'zh-CN': '{sensor} 压力:不再关联爆管' },

  'quality.beyond_limit': {
    en: '{param} {direction} the limit at {sensor}: {value} {unit} (limit {limit})',
    'zh-CN': '{sensor} {param}{direction}限值:{value} {unit}(限值 {limit})',
  },
  'quality.critical': { en: '{param} at {sensor} beyond the critical limit: {value} {unit}', 'zh-CN': '{sensor} {param}超出严重限值:{value} {unit}' },
  'quality.within_limits': { en: '{param} back within limits at {sensor}: {value} {unit}', 'zh-CN': '{sensor} {param}恢复到限值内:{value} {unit}' },
  'quality_chlorine_drop.raise': { en: 'Sudden chlorine drop at {sensor}: {baseline} → {now} mg/L', 'zh-CN': '{sensor} 余氯骤降:{baseline} → {now} mg/L' },
  'quality_chlorine_drop.recovered': { en: 'Chlorine at {sensor} has recovered', 'zh-CN': '{sensor} 余氯已恢复' },
  'quality_chlorine_drop.settled': { en: 'Chlorine at {sensor} has settled at a new level', 'zh-CN': '{sensor} 余氯稳定在新水平' },

  'sensor_fault.raise': { en: 'Sensor {sensor} {fault}', 'zh-CN': '传感器 {sensor} {fault}' },
  'sensor_fault.clear': { en: 'Sensor {sensor} recovered ({faultCode})', 'zh-CN': '传感器 {sensor} 已恢复({faultCode})' },
  'comms_loss.raise': {
    en: 'Communications lost with {sensors} sensors at once ({where}): a gateway, base station or collector?',
    'zh-CN': '{where} 的 {sensors} 个测点同时通信中断(网关、基站或采集器故障?)',
  },
  'comms_loss.clear': { en: 'Communications restored with its {sensors} sensors', 'zh-CN': '{sensors} 个测点通信已恢复' },

  'meter.backwards_misread': { en: 'Meter {meter} reads normally again (the low reading was a misread)', 'zh-CN': '水表 {meter} 读数恢复正常(低读数系误读)' },
  'meter.backwards_reset': {
    en: 'Meter {meter}: register restarted lower (reset or replaced), new reference taken',
    'zh-CN': '水表 {meter}:计数器从较低值重新开始(复位或更换),已取新基准',
  },
  'meter.backwards': { en: 'Meter {meter} reading went backwards: {reading} m³ after {previous} m³', 'zh-CN': '水表 {meter} 读数倒退:{previous} m³ 之后为 {reading} m³' },
  'meter.backwards_clear': { en: 'Meter {meter} no longer reads behind an earlier reading', 'zh-CN': '水表 {meter} 读数已不再低于此前读数' },
  'meter.zero_use': {
    en: 'No water used on active account {customer} (meter {meter}) for {days} days',
    'zh-CN': '在用账户 {customer}(水表 {meter})已 {days} 天无用水',
  },
  'meter.zero_use_clear': { en: 'Meter {meter} registers use again', 'zh-CN': '水表 {meter} 重新计量到用水' },
  'meter.continuous_use': {
    en: 'Meter {meter} has not stopped for {days} days: possible leak behind the meter',
    'zh-CN': '水表 {meter} 已连续 {days} 天未停转:表后可能漏水',
  },
  'meter.continuous_use_clear': { en: 'Meter {meter} shows a quiet period again', 'zh-CN': '水表 {meter} 重新出现静止时段' },
  'meter.high_use': {
    en: 'Meter {meter} used {perDay} m³/day, {ratio} × its usual {usual} m³/day',
    'zh-CN': '水表 {meter} 日用水 {perDay} m³,为平常 {usual} m³/日的 {ratio} 倍',
  },
  'meter.high_use_clear': { en: 'Meter {meter} use back to its usual level', 'zh-CN': '水表 {meter} 用水回到平常水平' },

  'emergency_supply_required.raise': {
    en: 'Outage in {dma} has lasted 24 h: emergency water supply required',
    'zh-CN': '{dma} 停水已达 24 小时:须启动应急供水',
  },
  'emergency_supply_required.clear': { en: 'Water back in {dma}: emergency supply no longer required', 'zh-CN': '{dma} 已恢复供水:不再需要应急供水' },
  'outage.overrun': { en: 'Planned outage {outage} in {dma} runs past its announced end', 'zh-CN': '{dma} 计划停水 {outage} 超过公告的结束时间' },
  'outage.planned': {
    en: 'Planned outage in {dma} ({outage}, {cause}): {customers} customers without water',
    'zh-CN': '{dma} 计划停水({outage},{cause}):{customers} 户停水',
  },
  'outage.unplanned': {
    en: 'Unplanned outage in {dma}: {customers} customers without water (cause {cause})',
    'zh-CN': '{dma} 突发停水:{customers} 户停水(原因 {cause})',
  },
  'outage.clear': { en: 'Water back in {dma} after {minutes} min', 'zh-CN': '{dma} 停水 {minutes} 分钟后恢复供水' },
  'outage_warning.raise': {
    en: 'Pressure in {dma} is falling and will reach the outage threshold in about {minutes} min',
    'zh-CN': '{dma} 压力持续下降,约 {minutes} 分钟后将达到停水阈值',
  },
  'outage_warning.clear': { en: 'Outage warning for {dma} ended: {reason}', 'zh-CN': '{dma} 停水预警解除:{reason}' },
  'tank_low_warning.raise': { en: 'Tank {tank} will be empty in about {hours} h', 'zh-CN': '水池 {tank} 约 {hours} 小时后将放空' },
  'tank_low_warning.clear': { en: 'Tank {tank} level recovering', 'zh-CN': '水池 {tank} 液位回升' },
  'pump_trip.stopped': { en: 'Pump {pump} stopped outside its level control', 'zh-CN': '水泵 {pump} 在液位控制之外停机' },
  'pump_trip.failed_to_restart': { en: 'Pump {pump} did not restart as its tank fell', 'zh-CN': '水池液位下降时水泵 {pump} 未重新启动' },
  'pump_trip.off_while_emptying': { en: 'Pump {pump} is off while its tank runs empty', 'zh-CN': '水泵 {pump} 停机而水池正在放空' },
  'pump_trip.clear': { en: 'Pump {pump} running again', 'zh-CN': '水泵 {pump} 已恢复运行' },
  'planned_outage_short_notice.raise': {
    en: 'Planned outage {outage} was announced only {hours} h ahead (24 h required)',
    'zh-CN': '计划停水 {outage} 仅提前 {hours} 小时公告(须提前 24 小时)',
  },
  'planned_outage_short_notice.over': { en: 'Planned outage {outage} is over', 'zh-CN': '计划停水 {outage} 已结束' },
  'planned_outage_short_notice.enough_notice': { en: 'Planned outage {outage} now has enough notice', 'zh-CN': '计划停水 {outage} 现已满足提前公告要求' },
  'planned_outage_short_notice.withdrawn': { en: 'Planned outage {outage} was withdrawn', 'zh-CN': '计划停水 {outage} 已撤销' },

  // ingest's own conditions (the store, the outbox, the sources' connections)
  ...INGEST_TEXTS,
} satisfies Record<string, Texts>;

export type AlarmTextCode = keyof typeof ALARM_TEXTS;

/** Terms a parameter may name with `@term`. */
export const TEXT_TERMS: Record<string, Texts> = {
  '@below': { en: 'below', 'zh-CN': '低于' },
  '@leak.leak_trend': { en: 'slow leak', 'zh-CN': '缓慢漏损' },
  '@leak.abrupt_leak': { en: 'small abrupt leak', 'zh-CN': '小型突发漏损' },
  '@leak.new_leak': { en: 'new leak', 'zh-CN': '新增漏损' },
  '@above': { en: 'above', 'zh-CN': '高于' },
  '@quality.chlorine': { en: 'Free chlorine', 'zh-CN': '游离氯' },
  '@quality.turbidity': { en: 'Turbidity', 'zh-CN': '浊度' },
  '@quality.ph': { en: 'pH', 'zh-CN': 'pH' },
  '@quality.conductivity': { en: 'Conductivity', 'zh-CN': '电导率' },
  '@quality.temperature': { en: 'Temperature', 'zh-CN': '水温' },
  '@fault.stale': { en: 'sends no readings', 'zh-CN': '无数据上报' },
  '@fault.flatline': { en: 'reads the same value over and over', 'zh-CN': '读数长时间不变' },
  '@fault.range': { en: 'reads values outside the physical range', 'zh-CN': '读数超出物理量程' },
  '@fault.bad_quality': { en: 'reports bad quality', 'zh-CN': '报告数据质量差' },
  '@fault.offline': { en: 'is offline at its source', 'zh-CN': '在数据源处离线' },
  '@fault.spike': { en: 'reads isolated values far from its neighbours (spikes)', 'zh-CN': '出现远离前后值的孤立读数(尖峰)' },
  '@fault.drift': { en: 'drifts away from the sensors around it', 'zh-CN': '与周边传感器偏离(漂移)' },
  '@reason.sensor_in_fault': { en: 'sensor in fault', 'zh-CN': '传感器故障' },
  '@reason.outage_began': { en: 'outage began', 'zh-CN': '已停水' },
  '@reason.pressure_steady': { en: 'pressure steady', 'zh-CN': '压力平稳' },
};

/** A text whose code is in the catalog (a detector's), typed by its code. */
export function alarmText(code: AlarmTextCode, params: TextParams = {}): AlarmText {
  return { code, params };
}

export function hasAlarmText(code: string): code is AlarmTextCode {
  return Object.hasOwn(ALARM_TEXTS, code);
}

/** The text in `language`; an unknown code gives the code and its parameters (never an empty line). */
export function renderAlarmText(text: AlarmText, language: TextLanguage): string {
  const template = hasAlarmText(text.code) ? ALARM_TEXTS[text.code][language] : undefined;
  if (template === undefined) return `${text.code} ${JSON.stringify(text.params)}`;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    if (!(name in text.params)) return whole;
    const v = text.params[name];
    return typeof v === 'string' && v.startsWith('@') ? TEXT_TERMS[v]?.[language] ?? v.slice(1) : String(v);
  });
}

/** The text in every language. */
export function localizedAlarmText(text: AlarmText): Record<TextLanguage, string> {
  return { 'zh-CN': renderAlarmText(text, 'zh-CN'), en: renderAlarmText(text, 'en') };
}

/** An alarm's (or a condition's) text in `language`: rendered from its code, else the message it came with. */
export function alarmMessage(a: { message?: string; text?: AlarmText }, language: TextLanguage): string {
  return a.text ? renderAlarmText(a.text, language) : a.message ?? '';
}

/**
 * The leak alarm types a dispatcher may accept as a change of use and whose repair the night flow
 * confirms (issue #12.4): leak-change's and night-flow's. One list for the detectors' decisions, the
 * server's repairs, the contract and the alarms view.
 */
export const ACCEPTABLE_LEAK_TYPES = ['leak_trend', 'abrupt_leak', 'new_leak'] as const;
export type AcceptableLeakType = (typeof ACCEPTABLE_LEAK_TYPES)[number];
export function isAcceptableLeakType(type: string): type is AcceptableLeakType {
  return (ACCEPTABLE_LEAK_TYPES as readonly string[]).includes(type);
}

/** The evidence field that holds each leak type's flow while its alarm is raised (m³/h). */
export const LEAK_FLOW_FIELD: Record<AcceptableLeakType, string> = { leak_trend: 'leakM3h', abrupt_leak: 'sizeM3h', new_leak: 'riseM3h' };

/** The name of every alarm type the detectors raise, in both languages (a notification's title). */
export const ALARM_TYPE_NAMES: Record<string, Record<TextLanguage, string>> = {
  burst: { en: 'Burst', 'zh-CN': '爆管' },
  new_leak: { en: 'New leak', 'zh-CN': '新增漏损' },
  leak_trend: { en: 'Slow leak', 'zh-CN': '缓慢漏损' },
  abrupt_leak: { en: 'Small abrupt leak', 'zh-CN': '小型突发漏损' },
  outage: { en: 'Outage', 'zh-CN': '停水' },
  outage_warning: { en: 'Outage warning', 'zh-CN': '停水预警' },
  planned_outage_short_notice: { en: 'Planned outage with < 24 h notice', 'zh-CN': '计划停水通知不足 24 小时' },
  pressure_low: { en: 'Low pressure', 'zh-CN': '压力过低' },
  pressure_drop: { en: 'Pressure drop', 'zh-CN': '压力骤降' },
  pressure_deviation: { en: 'Pressure deviation', 'zh-CN': '压力异常' },
  network_event: { en: 'Network event', 'zh-CN': '管网事件' },
  leak_candidate: { en: 'Leak candidate (pressure model)', 'zh-CN': '疑似漏损(压力模型)' },
  repair_unconfirmed: { en: 'Repair not confirmed by flow', 'zh-CN': '修复未获流量印证' },
  pump_trip: { en: 'Pump trip', 'zh-CN': '水泵跳闸' },
  tank_low_warning: { en: 'Tank low warning', 'zh-CN': '水池低液位预警' },
  emergency_supply_required: { en: 'Emergency supply required', 'zh-CN': '需应急供水' },
  quality_chlorine: { en: 'Chlorine out of limits', 'zh-CN': '余氯超限' },
  quality_turbidity: { en: 'Turbidity out of limits', 'zh-CN': '浊度超限' },
  quality_ph: { en: 'pH out of limits', 'zh-CN': 'pH 超限' },
  quality_conductivity: { en: 'Conductivity out of limits', 'zh-CN': '电导率超限' },
  quality_temperature: { en: 'Temperature out of limits', 'zh-CN': '水温超限' },
  quality_chlorine_drop: { en: 'Chlorine drop', 'zh-CN': '余氯骤降' },
  sensor_stale: { en: 'Sensor stale', 'zh-CN': '传感器数据中断' },
  sensor_flatline: { en: 'Sensor flatline', 'zh-CN': '传感器数值不变' },
  sensor_range: { en: 'Sensor out of range', 'zh-CN': '传感器超量程' },
  sensor_bad_quality: { en: 'Sensor bad quality', 'zh-CN': '传感器质量差' },
  sensor_offline: { en: 'Sensor offline', 'zh-CN': '传感器离线' },
  comms_loss: { en: 'Communications loss', 'zh-CN': '通信中断' },
  meter_backwards: { en: 'Meter running backwards', 'zh-CN': '水表倒转' },
  meter_continuous_use: { en: 'Meter continuous use', 'zh-CN': '水表持续用水' },
  meter_high_use: { en: 'Meter high use', 'zh-CN': '水表用量过高' },
  meter_zero_use: { en: 'Meter zero use', 'zh-CN': '水表零用量' },
  sensor_spike: { en: 'Sensor spikes', 'zh-CN': '传感器尖峰' },
  sensor_drift: { en: 'Sensor drift', 'zh-CN': '传感器漂移' },
  ...INGEST_TYPE_NAMES,
};

/** An alarm type's name in `language`, or the type itself for one without a name. */
export function alarmTypeName(type: string, language: TextLanguage): string {
  return ALARM_TYPE_NAMES[type]?.[language] ?? type;
}
