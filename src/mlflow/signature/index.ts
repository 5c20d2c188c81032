/** MLflow model signatures: types, schemas, inference and enforcement. */
// MLflow's Python names are Array, Object and Map; exported under those, they would shadow JavaScript's
// globals in any module that imports them by name, so they keep their class names here.
export { AnyType, ArrayType, DataType, type DataTypeName, MapType, ObjectType, Property, type SchemaType } from './types.js';
export { ColSpec, type ColumnName, type InputSpec, ParamSchema, ParamSpec, Schema, TensorSpec } from './schema.js';
export { ModelSignature, type SignatureDict } from './model-signature.js';
export { inferSignature, inferSchema, inferParamSchema, type InferSignatureOptions, type WarningSink } from './infer.js';
export { enforceInput, enforceParams, type ColumnTable, type EnforceOptions, type PyfuncInput } from './enforce.js';
