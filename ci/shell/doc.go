// Package shell is the CLI edge of oidc-exchange: it runs outside any CI
// platform, or inside one from a plain run: step, where the credentials
// travel on standard output instead of through the platform's file
// commands.
//
// [Renderer] implements [exchange.Exporter] and prints credentials in one
// of three [Format]s:
//
//   - [FormatEnv]: POSIX shell "export NAME='value'" lines, for
//     eval "$(oidc-exchange … --format env)";
//   - [FormatJSON]: one JSON object with env, outputs, expiration and
//     provider, for scripts and jq;
//   - [FormatCredentialProcess]: the JSON an AWS SDK expects from a
//     credential_process command.
//
// Values are printed in clear text: standard output is the user's own
// terminal or pipe, and printing them is the point. Everything else the
// CLI says must therefore go to standard error. Inside a CI job, capture
// the output (eval "$(…)") rather than letting it reach the log, which
// masks only what was registered with the platform.
//
// [FileTokenSource] and [ReaderTokenSource] implement
// [exchange.TokenSource] for a token that was obtained elsewhere: a file
// (a Kubernetes projected service-account token, a token a previous step
// saved) or standard input. They ignore the audience they are asked for,
// because the token's audience is whatever its issuer put in it; the
// verifier checks aud against the configured audience before any provider
// sees the token.
package shell
