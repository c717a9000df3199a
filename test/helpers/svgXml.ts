import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type Element = Record<string, unknown>;

/**
 * Parses an SVG strictly (any well-formedness error throws, naming it) into fast-xml-parser's ordered
 * form, and lists every element with its tag, attributes and text, depth first.
 */
export function svgElements(svg: string): { tag: string; attrs: Record<string, string>; text: string }[] {
  const valid = XMLValidator.validate(svg);
  if (valid !== true) throw new Error(`invalid XML: ${valid.err.msg} (line ${valid.err.line})`);
  const tree = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '',
    preserveOrder: true,
    parseAttributeValue: false,
    parseTagValue: false,
  }).parse(svg) as Element[];
  const out: { tag: string; attrs: Record<string, string>; text: string }[] = [];
  const walk = (nodes: Element[]) => {
    for (const node of nodes) {
      const tag = Object.keys(node).find((k) => k !== ':@' && k !== '#text');
      if (!tag) continue;
      const children = node[tag] as Element[];
      const text = children
        .filter((c) => '#text' in c)
        .map((c) => String(c['#text']))
        .join('');
      out.push({ tag, attrs: (node[':@'] as Record<string, string>) ?? {}, text });
      walk(children);
    }
  };
  walk(tree);
  return out;
}
