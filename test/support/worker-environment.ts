// Every integration worker talks to the stack that global-setup started; refuse to run against anything else.
if (!process.env.LOCAL_DATA_DIR || !process.env.AWS_ENDPOINT_URL_DYNAMODB) {
  throw new Error('integration tests need the local stack from test/support/global-setup.ts: run them with jest, not alone');
}
