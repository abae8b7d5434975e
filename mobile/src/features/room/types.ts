// The room's frames and messages as the server sends them (chat/payloads.py,
// chat/consumers.py, core/sockets.py).

export type MessageKind = "text" | "image" | "voice" | "video" | "file" | "system";

export interface Attachment {
  url: string;
  content_type: string;
  size: number;
  width: number | null; // as the picture is seen (upright), pixels
  height: number | null;
  duration_ms: number | null;
}

export interface RoomMessage {
  id: number;
  case: number;
  kind: MessageKind;
  sender: { id: number; name: string } | null;
  text: string;
  attachment: Attachment | null;
  event: { id: number; kind: string; note: string } | null;
  client_id: string;
  created_at: string;
}

export type ServerFrame =
  | { type: "hello"; case: { id: number; number: string; state: string }; last_message_id: number; last_read_id: number }
  | { type: "message"; message: RoomMessage }
  | { type: "ack"; id: number; client_id: string; duplicate: boolean }
  | { type: "history"; messages: RoomMessage[]; has_more: boolean }
  | { type: "read"; last_read_id: number }
  | { type: "pong" }
  | { type: "live_restored"; message: string }
  | { type: "error"; code: string; message: string; fields?: Record<string, string[]>; client_id?: string | null; id?: number };

export interface History {
  messages: RoomMessage[];
  has_more: boolean;
  last_read_id: number;
}
