/**
 * The few of TensorFlow's protocol buffers that graph.ts writes (GraphDef,
 * NodeDef, AttrValue, TensorProto) and reads (OpList), as tfjs-node ships them compiled for
 * google-protobuf; declared here because tfjs-node ships no types for them.
 */
declare module "@tensorflow/tfjs-node/dist/proto/api_pb.js" {
  interface Message {
    serializeBinary(): Uint8Array;
  }
  class TensorShapeDim {
    setSize(size: number): void;
  }
  export class TensorShape implements Message {
    static Dim: typeof TensorShapeDim;
    setDimList(dims: TensorShapeDim[]): void;
    serializeBinary(): Uint8Array;
  }
  export class Tensor implements Message {
    setDtype(dtype: number): void;
    setTensorShape(shape: TensorShape): void;
    setTensorContent(bytes: Uint8Array): void;
    serializeBinary(): Uint8Array;
  }
  class ListValue {
    setSList(values: Uint8Array[]): void;
    setIList(values: number[]): void;
    setFList(values: number[]): void;
    setBList(values: boolean[]): void;
    setTypeList(values: number[]): void;
  }
  export class AttrValue implements Message {
    static ListValue: typeof ListValue;
    setList(list: ListValue): void;
    setS(value: Uint8Array): void;
    setI(value: number): void;
    setF(value: number): void;
    setB(value: boolean): void;
    setType(value: number): void;
    setShape(value: TensorShape): void;
    setTensor(value: Tensor): void;
    serializeBinary(): Uint8Array;
  }
  export class NodeDef implements Message {
    setName(name: string): void;
    setOp(op: string): void;
    setInputList(inputs: string[]): void;
    getAttrMap(): { set(key: string, value: AttrValue): void };
    serializeBinary(): Uint8Array;
  }
  class ArgDef {
    getTypeAttr(): string;
    getNumberAttr(): string;
    getTypeListAttr(): string;
  }
  class AttrDef {
    getName(): string;
    hasDefaultValue(): boolean;
  }
  export class OpDef {
    getName(): string;
    getInputArgList(): ArgDef[];
    getAttrList(): AttrDef[];
  }
  export class OpList {
    static deserializeBinary(bytes: Uint8Array): OpList;
    getOpList(): OpDef[];
  }
  export class GraphDef implements Message {
    setNodeList(nodes: NodeDef[]): void;
    serializeBinary(): Uint8Array;
  }
}
