// Config section "content" (placeholder: the owning module replaces this with its real schema).
import { z } from 'zod';

export const contentConfigSchema = z.object({}).prefault({});
export type ContentConfig = z.infer<typeof contentConfigSchema>;
