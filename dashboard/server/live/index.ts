export { LiveGateway } from './gateway.ts';
export type { LiveGatewayOptions, LiveStats, LiveUser, LiveValue, AlarmTransitionSource } from './gateway.ts';
