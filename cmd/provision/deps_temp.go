package main

// TEMPORARY: pins the chosen modules in go.mod while packages are written
// in parallel; removed once every module is imported for real.
import (
	_ "github.com/cenkalti/backoff/v5"
	_ "github.com/charmbracelet/bubbles/list"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/huh"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/wish"
	_ "github.com/goccy/go-yaml"
	_ "github.com/jszwec/csvutil"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/bcrypt"
	_ "golang.org/x/time/rate"
)
