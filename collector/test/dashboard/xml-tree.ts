import { SaxesParser } from 'saxes';

/** An element of a parsed XML document. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  /** Text directly inside this element (not its children's). */
  text: string;
  readonly parent: XmlElement | undefined;
}

/**
 * Parse with saxes, a strict XML 1.0 parser (it throws on any
 * well-formedness error), into a small tree the tests can walk.
 */
export function parseXml(text: string): XmlElement {
  const parser = new SaxesParser({ xmlns: false, position: true });
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  parser.on('opentag', (tag) => {
    const parent = stack[stack.length - 1];
    const el: XmlElement = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [], text: '', parent };
    if (parent === undefined) root = el;
    else parent.children.push(el);
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top !== undefined) top.text += t;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(text).close();
  if (root === undefined) throw new Error('no root element');
  return root;
}

/** Every element under (and including) `el`, depth first. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** Elements matching a name and, optionally, a class. */
export function findAll(root: XmlElement, name: string, className?: string): XmlElement[] {
  return allElements(root).filter((e) => e.name === name && (className === undefined || (e.attributes['class'] ?? '').split(' ').includes(className)));
}

/** Text of an element and its descendants. */
export function textOf(el: XmlElement): string {
  return el.text + el.children.map(textOf).join('');
}
