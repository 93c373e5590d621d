package tui

import (
	"os"
	"testing"

	"provision/tui/internal/tuitest"
)

func TestMain(m *testing.M) {
	tuitest.FixedZone()
	os.Exit(m.Run())
}
