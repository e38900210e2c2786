package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/oidc-exchange/oidc-exchange/cmd/internal/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := app.Main(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(app.ExitCode(err))
}
