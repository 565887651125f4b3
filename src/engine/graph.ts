/**
 * A recorded sequence of TensorFlow ops made into one TensorFlow function: a
 * GraphDef, written with TensorFlow's own protocol buffers (as tfjs-node
 * ships them), handed to the binding's `addGraphFunction` (patches/), which
 * makes a function of it and registers it with the eager context. The
 * function then runs by name, like an op, under TensorFlow's graph executor.
 */
import { createHash } from "node:crypto";
import * as proto from "@tensorflow/tfjs-node/dist/proto/api_pb.js";
import type { NativeBackend, OpAttr } from "./binding";

/** Where an op's input comes from: an earlier op's output, an argument of the function, or a constant. */
export type Source =
  | { kind: "op"; node: number; output: number }
  | { kind: "argument"; index: number }
  | { kind: "constant"; index: number };

export interface GraphNode {
  op: string;
  attrs: OpAttr[];
  inputs: Source[];
  /** Its outputs' TensorFlow dtypes. */
  outputTypes: number[];
  /** Nodes that must run before this one (they share a resource variable with it). */
  after: number[];
}

export interface Constant {
  /** TensorFlow's dtype number. */
  dtype: number;
  shape: number[];
  values: ArrayLike<number> | ArrayLike<boolean>;
}

export interface GraphSpec {
  /** The arguments' TensorFlow dtypes, in order. */
  argumentTypes: number[];
  constants: Constant[];
  nodes: GraphNode[];
  /** The function's results: outputs of its ops. */
  results: Array<Source & { kind: "op" }>;
  /** Ops that have no result the function returns but must run at every call (variable updates). */
  effects: number[];
}

/** Whether this binding can register functions (it was compiled with patches/' change). */
export function canMakeFunctions(backend: NativeBackend): boolean {
  return typeof backend.binding.addGraphFunction === "function" && typeof backend.binding.getAllOpList === "function";
}

/** Of each op's inputs, the attributes that give their types and counts. */
type InputArgs = Array<{ typeAttr: string; numberAttr: string; typeListAttr: string }>;

let inputArgsByOp: Map<string, InputArgs> | null = null;

/** What TensorFlow's registry says of `op`'s inputs (read once: about 0.1 s). */
function inputArgsOf(backend: NativeBackend, op: string): InputArgs {
  inputArgsByOp ??= new Map(
    proto.OpList.deserializeBinary(backend.binding.getAllOpList!())
      .getOpList()
      .map((def) => [
        def.getName(),
        def.getInputArgList().map((a) => ({
          typeAttr: a.getTypeAttr(),
          numberAttr: a.getNumberAttr(),
          typeListAttr: a.getTypeListAttr(),
        })),
      ]),
  );
  const args = inputArgsByOp.get(op);
  if (args === undefined) throw new Error(`TensorFlow has no op ${op}`);
  return args;
}

/**
 * The node's attributes with those an eager call may leave out added: the
 * types (and counts) of its inputs, which TensorFlow infers from the inputs
 * when it runs an op on its own, but a graph must state.
 */
function completeAttrs(backend: NativeBackend, node: GraphNode, inputTypes: number[]): OpAttr[] {
  const { TF_ATTR_TYPE, TF_ATTR_INT } = backend.binding;
  const attrs = [...node.attrs];
  const given = (name: string) => attrs.find((a) => a.name === name);
  const args = inputArgsOf(backend, node.op);
  const lengthGiven = (arg: InputArgs[number]) => {
    const listed = given(arg.numberAttr || arg.typeListAttr)?.value;
    return typeof listed === "number" ? listed : Array.isArray(listed) ? listed.length : null;
  };
  const isList = (arg: InputArgs[number]) => arg.numberAttr !== "" || arg.typeListAttr !== "";
  // a list whose length is not given has the inputs the others leave (no op here has two such lists)
  const known = args.reduce((sum, arg) => sum + (isList(arg) ? (lengthGiven(arg) ?? 0) : 1), 0);
  let at = 0;
  for (const arg of args) {
    let count = 1;
    if (isList(arg)) {
      count = lengthGiven(arg) ?? inputTypes.length - known;
      if (arg.numberAttr !== "" && given(arg.numberAttr) === undefined)
        attrs.push({ name: arg.numberAttr, type: TF_ATTR_INT, value: count });
      if (arg.typeListAttr !== "" && given(arg.typeListAttr) === undefined)
        attrs.push({ name: arg.typeListAttr, type: TF_ATTR_TYPE, value: inputTypes.slice(at, at + count) });
    }
    if (arg.typeAttr !== "" && given(arg.typeAttr) === undefined)
      attrs.push({ name: arg.typeAttr, type: TF_ATTR_TYPE, value: inputTypes[at]! });
    at += count;
  }
  return attrs;
}

function attrValue(backend: NativeBackend, attr: OpAttr): proto.AttrValue {
  const { binding } = backend;
  const value = new proto.AttrValue();
  const v = attr.value;
  if (Array.isArray(v)) {
    const list = new proto.AttrValue.ListValue();
    if (attr.type === binding.TF_ATTR_TYPE) list.setTypeList(v as number[]);
    else if (attr.type === binding.TF_ATTR_INT) list.setIList(v as number[]);
    else if (attr.type === binding.TF_ATTR_FLOAT) list.setFList(v as number[]);
    else if (attr.type === binding.TF_ATTR_STRING) list.setSList((v as string[]).map((s) => Buffer.from(s)));
    else if (attr.type === binding.TF_ATTR_SHAPE) return shapeValue(v as number[]);
    else throw new Error(`attribute ${attr.name}: list of type ${attr.type} is not written`);
    value.setList(list);
    return value;
  }
  if (attr.type === binding.TF_ATTR_TYPE) value.setType(v as number);
  else if (attr.type === binding.TF_ATTR_INT) value.setI(v as number);
  else if (attr.type === binding.TF_ATTR_FLOAT) value.setF(v as number);
  else if (attr.type === binding.TF_ATTR_BOOL) value.setB(v as boolean);
  else if (attr.type === binding.TF_ATTR_STRING) value.setS(Buffer.from(v as string));
  else throw new Error(`attribute ${attr.name} of type ${attr.type} is not written`);
  return value;
}

function tensorShape(dims: number[]): proto.TensorShape {
  const shape = new proto.TensorShape();
  shape.setDimList(
    dims.map((size) => {
      const dim = new proto.TensorShape.Dim();
      dim.setSize(size);
      return dim;
    }),
  );
  return shape;
}

function shapeValue(dims: number[]): proto.AttrValue {
  const value = new proto.AttrValue();
  value.setShape(tensorShape(dims));
  return value;
}

/** A constant's bytes as TensorFlow lays them out: float32 and int32 as 4 little-endian bytes, bool and uint8 as 1. */
function constantBytes(backend: NativeBackend, constant: Constant): Uint8Array {
  const { TF_FLOAT, TF_INT32, TF_BOOL, TF_UINT8 } = backend.binding;
  const values = Array.from(constant.values as ArrayLike<number>, Number);
  if (constant.dtype === TF_FLOAT) return new Uint8Array(Float32Array.from(values).buffer);
  if (constant.dtype === TF_INT32) return new Uint8Array(Int32Array.from(values).buffer);
  if (constant.dtype === TF_BOOL || constant.dtype === TF_UINT8) return Uint8Array.from(values);
  throw new Error(`a constant of TensorFlow dtype ${constant.dtype} is not written`);
}

function node(name: string, op: string, inputs: string[], attrs: Record<string, proto.AttrValue>): proto.NodeDef {
  const n = new proto.NodeDef();
  n.setName(name);
  n.setOp(op);
  n.setInputList(inputs);
  for (const [key, value] of Object.entries(attrs)) n.getAttrMap().set(key, value);
  return n;
}

const registered = new Set<string>();

/**
 * Registers `spec` as a TensorFlow function and returns its name, which is
 * the hash of its graph: the same graph is registered once per process.
 */
export function registerFunction(backend: NativeBackend, spec: GraphSpec): string {
  const typeValue = (dtype: number) =>
    attrValue(backend, { name: "dtype", type: backend.binding.TF_ATTR_TYPE, value: dtype });
  const sourceName = (s: Source) =>
    s.kind === "op" ? `n${s.node}:${s.output}` : s.kind === "argument" ? `a${s.index}:0` : `c${s.index}:0`;
  const typeOf = (s: Source) =>
    s.kind === "op"
      ? spec.nodes[s.node]!.outputTypes[s.output]!
      : s.kind === "argument"
        ? spec.argumentTypes[s.index]!
        : spec.constants[s.index]!.dtype;
  const nodes = [
    ...spec.argumentTypes.map((dtype, i) => node(`a${i}`, "Placeholder", [], { dtype: typeValue(dtype) })),
    ...spec.constants.map((c, i) => {
      const tensor = new proto.Tensor();
      tensor.setDtype(c.dtype);
      tensor.setTensorShape(tensorShape(c.shape));
      tensor.setTensorContent(constantBytes(backend, c));
      const value = new proto.AttrValue();
      value.setTensor(tensor);
      return node(`c${i}`, "Const", [], { dtype: typeValue(c.dtype), value });
    }),
    ...spec.nodes.map((n, i) =>
      node(
        `n${i}`,
        n.op,
        [...n.inputs.map(sourceName), ...n.after.map((j) => `^n${j}`)],
        Object.fromEntries(completeAttrs(backend, n, n.inputs.map(typeOf)).map((a) => [a.name, attrValue(backend, a)])),
      ),
    ),
  ];
  const graph = new proto.GraphDef();
  graph.setNodeList(nodes);
  const bytes = graph.serializeBinary();
  const results = spec.results.map(sourceName);
  const effects = spec.effects.map((i) => `n${i}`);
  const hash = createHash("sha256").update(bytes).update(results.join()).update(effects.join());
  const name = `deep_convolution_${hash.digest("hex").slice(0, 24)}`;
  if (!registered.has(name)) {
    backend.binding.addGraphFunction!(
      name,
      bytes,
      spec.argumentTypes.map((_, i) => `a${i}`),
      results,
      effects,
    );
    registered.add(name);
  }
  return name;
}
