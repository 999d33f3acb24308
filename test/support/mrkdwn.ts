/** Every mrkdwn text object in a message or its blocks (section text, fields, context elements, confirm dialogs). */
export interface MrkdwnObject {
  text: string;
  verbatim?: boolean;
}

export function mrkdwnObjects(value: unknown): MrkdwnObject[] {
  const out: MrkdwnObject[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      if ((v as { type?: unknown }).type === 'mrkdwn') out.push(v as MrkdwnObject);
      Object.values(v).forEach(walk);
    }
  };
  walk(value);
  return out;
}
