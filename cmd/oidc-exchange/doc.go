// Command oidc-exchange trades a CI job's OIDC token for short-lived cloud
// credentials.
//
// It runs as a GitHub container action when GITHUB_ACTIONS=true and no
// subcommand is given (inputs arrive as INPUT_* variables; the post step
// is recognised by its argv[0], oidc-exchange-post, or by the state the
// main step saved), and as a CLI otherwise:
//
//	oidc-exchange aws --role-arn ARN --region REGION [--format env|json|credential-process]
//	oidc-exchange gcp --workload-identity-provider RESOURCE [--service-account EMAIL] [--format json|env|external-account]
//	oidc-exchange verify [--audience AUD] [--token-file FILE|-]
//	oidc-exchange broker --url URL --client-id ID [--client-secret-file FILE]
//	oidc-exchange lint|plan|migrate ...
//	oidc-exchange version
//
// This is the binary that handles real credentials, and it links no test
// double: internal/layout checks its dependencies. The program itself is
// package cmd/internal/app; this package hands it the process, turns its
// error into the exit code and is the one place that calls os.Exit. The
// local sandbox is a command of its own, cmd/oidc-exchange-demo.
package main
