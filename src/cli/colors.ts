import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

/**
 * Colours for what is written to `stream`: only on a terminal that shows them. Node's `hasColors()` answers
 * no when NO_COLOR is set (https://no-color.org), NODE_DISABLE_COLORS is set or TERM is dumb, and yes with
 * FORCE_COLOR.
 */
export function colorsFor(stream: NodeJS.WriteStream): Colors {
  return picocolors.createColors(stream.isTTY === true && stream.hasColors());
}
