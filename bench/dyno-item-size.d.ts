/** dyno-item-size ships no types: the size in bytes of a plain (unmarshalled) item, as DynamoDB counts it. */
declare module 'dyno-item-size' {
  function itemSize(item: Record<string, unknown>): number;
  export default itemSize;
}
