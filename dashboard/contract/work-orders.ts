/** Maintenance work orders (a burst alarm's raise creates one). */
import { z } from 'zod';
import type { WorkOrder as ServerWorkOrder } from '../server/state/work-orders.ts';
import { endpoint, epochMs, idParams, text, type Equal, type Expect } from './common.ts';

/** A work order's states; the server's store and the browser both take them from here. */
export const WORK_ORDER_STATUSES = ['new', 'assigned', 'in_progress', 'resolved'] as const;

export const workOrderStatus = z.enum(WORK_ORDER_STATUSES);
export type WorkOrderStatus = z.infer<typeof workOrderStatus>;

export const workOrder = z.strictObject({
  id: z.string(), alarmId: z.string(), dma: z.string(), locationHint: z.string().optional(), status: workOrderStatus,
  crew: z.string().optional(), notes: z.array(z.strictObject({ at: epochMs, by: z.string(), text: z.string() })),
  createdAt: epochMs, updatedAt: epochMs, resolvedAt: epochMs.optional(),
  burstFlowM3h: z.number().optional(),
  /** Event time the burst is estimated to have started. */
  burstStart: epochMs.optional(),
  /** Burst flow × time since the burst's estimated start (until resolved). */
  estimatedLossM3: z.number(),
});
export type WorkOrder = z.infer<typeof workOrder>;

export type WorkOrdersMatchServer = Expect<Equal<WorkOrder, ServerWorkOrder>>;

export const workOrders = {
  list: endpoint({
    method: 'GET', url: '/work-orders', tags: ['work orders'], summary: 'Work orders, newest first',
    querystring: z.strictObject({ status: workOrderStatus.optional() }), response: z.array(workOrder),
  }),
  create: endpoint({
    method: 'POST', url: '/work-orders', tags: ['work orders'], summary: 'Create a work order for an alarm (one per alarm)', permission: 'workorders.edit',
    body: z.strictObject({ alarmId: text(256, 1), note: text(2000).optional() }), status: 201, response: workOrder,
  }),
  update: endpoint({
    method: 'PATCH', url: '/work-orders/:id', tags: ['work orders'], summary: 'Assign a crew, change the status, add a note', permission: 'workorders.edit',
    params: idParams, body: z.strictObject({ status: workOrderStatus.optional(), crew: text(200).optional(), note: text(2000).optional() }),
    response: workOrder,
  }),
};
