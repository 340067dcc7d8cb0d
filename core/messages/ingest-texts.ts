/**
 * Texts of ingest's own conditions (the store, the outbox, the sources' connections), in zh-CN and
 * en, part of the alarm text catalog (alarm-texts.ts). Ingest publishes its conditions on the bus
 * with an English `message` only; the receiving side gives each a text from what the bus message
 * carries and was checked (type, state, id, evidence): `ingestConditionText`. The subject of a
 * source's condition is its id after the first `:` (a source name, a Sparkplug node or device).
 */
import type { AlarmText, TextParams } from './alarm-texts.ts';

export const INGEST_TEXTS = {
  'ingest.store_unavailable.raise': {
    en: 'Time-series store unavailable: readings are held in the outbox ({depth} waiting)',
    'zh-CN': '时序数据库不可用:读数暂存于缓存队列(待写 {depth} 条)',
  },
  'ingest.store_unavailable.clear': { en: 'Time-series store writes succeed again', 'zh-CN': '时序数据库恢复写入' },
  'ingest.clock_suspect.raise': {
    en: 'The server clock looks behind: {aheadSensors} of {sensors} sensors report times beyond ingest.maxFutureMs (up to {maxAheadMs} ms); their readings are held until the clock is right (check NTP)',
    'zh-CN': '服务器时钟疑似落后:{sensors} 个传感器中有 {aheadSensors} 个上报的时间超出 ingest.maxFutureMs(最多 {maxAheadMs} ms);其读数暂缓接收,直至时钟校正(请检查 NTP)',
  },
  'ingest.clock_suspect.clear': { en: 'Readings are no longer ahead of the server clock; held readings are taken again', 'zh-CN': '读数不再超前于服务器时钟,暂缓的读数重新接收' },
  'ingest.disk_full.raise': {
    en: 'Disk full: the outbox cannot drain and sources are refused until there is room ({depth} readings waiting)',
    'zh-CN': '磁盘已满:缓存队列无法写出,数据源暂被拒收,直至腾出空间(待写 {depth} 条)',
  },
  'ingest.disk_full.clear': { en: 'The outbox drains again', 'zh-CN': '缓存队列恢复写出' },
  'ingest.disk_low.raise': {
    en: 'Disk space low on {dir}: {freeMiB} MiB free, floor {floorMiB} MiB; the stores fail when it is full',
    'zh-CN': '{dir} 磁盘空间不足:剩余 {freeMiB} MiB,下限 {floorMiB} MiB;磁盘写满后数据库将无法写入',
  },
  'ingest.disk_low.clear': { en: 'Disk space on {dir} above the floor again ({freeMiB} MiB free)', 'zh-CN': '{dir} 磁盘空间已回到下限以上(剩余 {freeMiB} MiB)' },
  'ingest.outbox_fault.raise': {
    en: 'The outbox cannot drain; retried with backoff ({depth} readings waiting)',
    'zh-CN': '缓存队列无法写出,正在退避重试(待写 {depth} 条)',
  },
  'ingest.outbox_fault.clear': { en: 'The outbox drains again', 'zh-CN': '缓存队列恢复写出' },
  'ingest.outbox_full.raise': {
    en: 'Outbox full ({depth} readings): sources are refused until the store catches up',
    'zh-CN': '缓存队列已满({depth} 条):数据源暂被拒收,直至数据库追上',
  },
  'ingest.outbox_full.clear': { en: 'Outbox below 90 % again', 'zh-CN': '缓存队列回落到 90 % 以下' },
  'ingest.outbox_row_quarantined.raise': {
    en: 'Outbox row {rowId} could not be read; moved to the outbox_quarantine table of the ingest database',
    'zh-CN': '缓存队列第 {rowId} 行无法读取,已移至采集数据库的 outbox_quarantine 表',
  },
  'ingest.outbox_row_quarantined.clear': { en: 'Readings behind the quarantined row are written', 'zh-CN': '隔离行之后的读数已写入' },
  'ingest.dead_letters_capped.raise': {
    en: 'Source {source} holds {bytes} bytes of dead letters (cap {cap}): its further rejected input is counted, not kept',
    'zh-CN': '数据源 {source} 的死信已达 {bytes} 字节(上限 {cap}):此后被拒的输入只计数、不保存',
  },
  'ingest.dead_letters_capped.clear': { en: 'Source {source} has room for dead letters again', 'zh-CN': '数据源 {source} 的死信空间已恢复' },
  'mqtt.disconnected.raise': {
    en: 'MQTT source {source} lost its connection to the broker; the broker keeps QoS 1 messages until it is back',
    'zh-CN': 'MQTT 数据源 {source} 与代理服务器断开;QoS 1 消息由代理保留至重新连接',
  },
  'mqtt.disconnected.clear': { en: 'MQTT source {source} connected again', 'zh-CN': 'MQTT 数据源 {source} 已重新连接' },
  'sparkplug.disconnected.raise': {
    en: 'Sparkplug source {source} lost its connection to the broker; the broker keeps QoS 1 messages until it is back',
    'zh-CN': 'Sparkplug 数据源 {source} 与代理服务器断开;QoS 1 消息由代理保留至重新连接',
  },
  'sparkplug.disconnected.clear': { en: 'Sparkplug source {source} connected again', 'zh-CN': 'Sparkplug 数据源 {source} 已重新连接' },
  'sparkplug.node_death.raise': {
    en: 'Sparkplug edge node {node} is offline (NDEATH); its sensors have no current values',
    'zh-CN': 'Sparkplug 边缘节点 {node} 离线(NDEATH),其传感器没有当前值',
  },
  'sparkplug.node_death.clear': { en: 'Sparkplug edge node {node} is online (NBIRTH)', 'zh-CN': 'Sparkplug 边缘节点 {node} 已上线(NBIRTH)' },
  'sparkplug.device_death.raise': {
    en: 'Sparkplug device {device} is offline (DDEATH); its sensors have no current values',
    'zh-CN': 'Sparkplug 设备 {device} 离线(DDEATH),其传感器没有当前值',
  },
  'sparkplug.device_death.clear': { en: 'Sparkplug device {device} is online (DBIRTH)', 'zh-CN': 'Sparkplug 设备 {device} 已上线(DBIRTH)' },
  'source.insecure.raise': {
    en: 'OPC UA server {source} is read without signing and encryption (allowInsecure): values could be forged on the plant network',
    'zh-CN': 'OPC UA 服务器 {source} 以不签名、不加密方式读取(allowInsecure):厂区网络上的数值可能被伪造',
  },
  'source.insecure.clear': { en: 'OPC UA source {source} is no longer read insecurely', 'zh-CN': 'OPC UA 数据源 {source} 已不再以不安全方式读取' },
  'source.certificate_untrusted.raise': {
    en: 'OPC UA source {source}: the server certificate of {endpoint} is not trusted ({status}); move it from {rejectedFolder} into {trustedFolder} or list it in trustedServerCertificates',
    'zh-CN': 'OPC UA 数据源 {source}:{endpoint} 的服务器证书不受信任({status});请将其从 {rejectedFolder} 移至 {trustedFolder},或列入 trustedServerCertificates',
  },
  'source.certificate_untrusted.clear': { en: 'OPC UA source {source}: server certificate trusted', 'zh-CN': 'OPC UA 数据源 {source}:服务器证书已受信任' },
  'source.session_lost.raise': { en: 'OPC UA source {source}: no session with {endpoint} ({reason})', 'zh-CN': 'OPC UA 数据源 {source}:与 {endpoint} 无会话({reason})' },
  'source.session_lost.clear': { en: 'OPC UA source {source}: session established', 'zh-CN': 'OPC UA 数据源 {source}:会话已建立' },
  'source.silent.raise': {
    en: 'OPC UA source {source}: no data and no keep-alive from {endpoint}',
    'zh-CN': 'OPC UA 数据源 {source}:{endpoint} 既无数据也无保活消息',
  },
  'source.silent.clear': { en: 'OPC UA source {source}: subscription delivers again', 'zh-CN': 'OPC UA 数据源 {source}:订阅恢复上报' },
} satisfies Record<string, Record<'zh-CN' | 'en', string>>;

/** The names of ingest's condition types (a notification's title, the alarm list). */
export const INGEST_TYPE_NAMES: Record<string, Record<'zh-CN' | 'en', string>> = {
  'ingest.store_unavailable': { en: 'Store unavailable', 'zh-CN': '数据库不可用' },
  'ingest.clock_suspect': { en: 'Server clock behind', 'zh-CN': '服务器时钟落后' },
  'ingest.disk_full': { en: 'Disk full', 'zh-CN': '磁盘已满' },
  'ingest.disk_low': { en: 'Disk space low', 'zh-CN': '磁盘空间不足' },
  'ingest.outbox_fault': { en: 'Outbox fault', 'zh-CN': '缓存队列故障' },
  'ingest.outbox_full': { en: 'Outbox full', 'zh-CN': '缓存队列已满' },
  'ingest.outbox_row_quarantined': { en: 'Outbox row quarantined', 'zh-CN': '缓存行已隔离' },
  'ingest.dead_letters_capped': { en: 'Dead letters capped', 'zh-CN': '死信达到上限' },
  'mqtt.disconnected': { en: 'MQTT source disconnected', 'zh-CN': 'MQTT 数据源断开' },
  'sparkplug.disconnected': { en: 'Sparkplug source disconnected', 'zh-CN': 'Sparkplug 数据源断开' },
  'sparkplug.node_death': { en: 'Edge node offline', 'zh-CN': '边缘节点离线' },
  'sparkplug.device_death': { en: 'Device offline', 'zh-CN': '设备离线' },
  'source.insecure': { en: 'Insecure source', 'zh-CN': '数据源不安全' },
  'source.certificate_untrusted': { en: 'Certificate not trusted', 'zh-CN': '证书不受信任' },
  'source.session_lost': { en: 'Source session lost', 'zh-CN': '数据源会话中断' },
  'source.silent': { en: 'Source silent', 'zh-CN': '数据源无响应' },
};

/** What a condition's id names after the first `:`, by type: the parameter it fills. */
const SUBJECT_PARAM: Record<string, string> = {
  'mqtt.disconnected': 'source', 'sparkplug.disconnected': 'source', 'ingest.dead_letters_capped': 'source',
  'sparkplug.node_death': 'node', 'sparkplug.device_death': 'device',
  'source.insecure': 'source', 'source.certificate_untrusted': 'source', 'source.session_lost': 'source', 'source.silent': 'source',
};

/**
 * The text of an ingest condition, or undefined when its type and state have none or what it
 * carries does not fill the text (the condition then shows its English message).
 */
export function ingestConditionText(c: { id: string; type: string; state: string; evidence?: Record<string, unknown> }): AlarmText | undefined {
  const code = `${c.type}.${c.state}`;
  if (!Object.hasOwn(INGEST_TEXTS, code)) return undefined;
  const params: TextParams = {};
  for (const [k, v] of Object.entries(c.evidence ?? {})) if (typeof v === 'string' || typeof v === 'number') params[k] = v;
  const colon = c.id.indexOf(':');
  const subject = SUBJECT_PARAM[c.type];
  if (subject && colon >= 0) params[subject] = c.id.slice(colon + 1);
  const template = INGEST_TEXTS[code as keyof typeof INGEST_TEXTS].en;
  const needed = [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  if (!needed.every((n) => n in params)) return undefined;
  return { code, params: Object.fromEntries(needed.map((n) => [n, params[n]])) };
}
