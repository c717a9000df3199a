import { type Static, Type } from '@sinclair/typebox';
import { contract } from './contract.js';
import { IsoTime, Name } from './fields.js';

/**
 * What a device has been told to do beyond its configuration (today: quiet mode, set by the `quiet`
 * command), retained on devices/<id>/mode so a switch in Home Assistant or a dashboard shows the state
 * the device really is in, also after either end restarts.
 */
export const MODE_SCHEMA = 1;

export const DeviceModeSchema = Type.Object(
  {
    schema: Type.Literal(MODE_SCHEMA),
    deviceId: Name('a device id'),
    /** No speech (answers are still published); quiet hours add to it. */
    quiet: Type.Boolean({ description: 'true or false' }),
    at: IsoTime(),
  },
  { additionalProperties: false },
);
export type DeviceMode = Static<typeof DeviceModeSchema>;

export const modeContract = contract(
  'mode',
  'What a device was told to do: quiet mode (retained on devices/<id>/mode)',
  DeviceModeSchema,
);
