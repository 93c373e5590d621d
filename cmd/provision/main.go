// Command provision moves an organisation's users into Auth0 without losing
// one: it plans the provisioning strategy, validates exports against Auth0's
// import rules, proves password hashes before upload, and runs staged,
// resumable migrations. This package is wiring only; the work lives in
// engine/, storage/ and tui/.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newRootCmd().ExecuteContext(ctx)
	os.Exit(exitCode(ctx, err))
}

// Exit codes are part of the contract scripts rely on.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitQuarantined = 3
	exitInterrupted = 130
)

// exitError carries a specific exit code; its message (if any) is printed.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

func exitCode(ctx context.Context, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(os.Stderr, "provision:", ee.err)
		}
		return ee.code
	}
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "provision: interrupted")
		return exitInterrupted
	}
	fmt.Fprintln(os.Stderr, "provision:", err)
	if isUsage(err) {
		return exitUsage
	}
	return exitFailure
}
