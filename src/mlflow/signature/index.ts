/** MLflow model signatures: types, schemas, inference and enforcement. */
export {
  AnyType, ArrayType, ArrayType as Array, DataType, type DataTypeName, MapType, MapType as Map, ObjectType,
  ObjectType as Object, Property, type SchemaType,
} from './types.js';
export { ColSpec, type ColumnName, type InputSpec, ParamSchema, ParamSpec, Schema, TensorSpec } from './schema.js';
export { ModelSignature, type SignatureDict } from './model-signature.js';
export { inferSignature, inferSchema, inferParamSchema, type InferSignatureOptions, type WarningSink } from './infer.js';
export { enforceInput, enforceParams, type ColumnTable, type EnforceOptions, type PyfuncInput } from './enforce.js';
