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
//	oidc-exchange demo [aws|aws-denied|aws-claims|gcp|gcp-denied]
//	oidc-exchange version
//
// This package is the only wiring layer: it alone reads flags, the
// environment and INPUT_*, builds the pipeline from the registries, maps
// failures to exit codes (see exitCode) and calls os.Exit.
package main
