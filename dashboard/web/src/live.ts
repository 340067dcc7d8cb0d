/**
 * The socket.io connection (API.md "Live"). Components say which rooms they show with `useRooms`;
 * rooms are reference-counted so two components sharing a room subscribe once, and every room is
 * subscribed again after a reconnect.
 */
import { io, type Socket } from 'socket.io-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import { sessionEnded } from './api.ts';

let socket: Socket | undefined;
const roomCounts = new Map<string, number>();
/** Per room, who wants to know when the server has taken the subscription (a view reads its state again then). */
const joinListeners = new Map<string, Set<() => void>>();
type Listener = (state: boolean) => void;
const connListeners = new Set<Listener>();

export function connectLive(): Socket {
  if (socket) return socket;
  socket = io({ path: '/socket.io', withCredentials: true, transports: ['websocket', 'polling'] });
  socket.on('connect', () => {
    const rooms = [...roomCounts.keys()];
    if (rooms.length) subscribe(rooms);
    for (const l of connListeners) l(true);
  });
  socket.on('disconnect', () => { for (const l of connListeners) l(false); });
  socket.on('session_expired', () => sessionEnded());
  return socket;
}

export function disconnectLive(): void {
  socket?.disconnect();
  socket = undefined;
  roomCounts.clear();
}

/**
 * Subscribe, and once the server has answered tell the rooms' join listeners: what happened between
 * a view's first read and the subscription reached no one, so a view reads its state again then.
 */
function subscribe(rooms: string[]): void {
  socket!.emit('subscribe', { rooms }, () => {
    for (const r of rooms) for (const l of joinListeners.get(r) ?? []) l();
  });
}

function addRooms(rooms: string[]): void {
  const fresh = rooms.filter((r) => { const n = roomCounts.get(r) ?? 0; roomCounts.set(r, n + 1); return n === 0; });
  if (fresh.length && socket?.connected) subscribe(fresh);
}

function removeRooms(rooms: string[]): void {
  const gone = rooms.filter((r) => {
    const n = (roomCounts.get(r) ?? 0) - 1;
    if (n <= 0) { roomCounts.delete(r); return true; }
    roomCounts.set(r, n);
    return false;
  });
  if (gone.length && socket?.connected) socket.emit('unsubscribe', { rooms: gone });
}

/**
 * Keep this component's rooms subscribed while it is mounted; `onJoined` is called each time the
 * server takes a subscription of one of them (first join, after a reconnect).
 */
export function useRooms(rooms: string[], onJoined?: () => void): void {
  const key = rooms.join('\n');
  const joined = useRef(onJoined);
  joined.current = onJoined;
  useEffect(() => {
    const list = key ? key.split('\n') : [];
    const listener = () => joined.current?.();
    for (const r of list) {
      if (!joinListeners.has(r)) joinListeners.set(r, new Set());
      joinListeners.get(r)!.add(listener);
    }
    addRooms(list);
    return () => {
      for (const r of list) joinListeners.get(r)?.delete(listener);
      removeRooms(list);
    };
  }, [key]);
}

/** Call `handler` on every `event` from the server while mounted (always the latest handler). */
export function useLiveEvent<T>(event: string, handler: (payload: T) => void): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const s = connectLive();
    const fn = (p: T) => ref.current(p);
    s.on(event, fn);
    return () => { s.off(event, fn); };
  }, [event]);
}

/** Whether the live connection is up. */
export function useLiveConnected(): boolean {
  const [up, setUp] = useState(() => socket?.connected ?? false);
  useEffect(() => {
    const l: Listener = (v) => setUp(v);
    connListeners.add(l);
    setUp(socket?.connected ?? false);
    return () => { connListeners.delete(l); };
  }, []);
  return up;
}
