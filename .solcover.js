// solidity-coverage: measure the ledger's contracts, not the test-only helpers.
module.exports = {
  skipFiles: ["test/"],
  istanbulReporter: ["text", "text-summary", "json-summary", "lcov"],
  mocha: { timeout: 600000 },
};
