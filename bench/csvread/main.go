// Command csvread is the baseline for validation speed: it reads a CSV with
// the standard library's encoding/csv and nothing else, and prints the row
// count and elapsed seconds. bench/validate.sh compares provision validate
// against it. -reuse sets ReuseRecord, the fastest way encoding/csv can
// read; without it the reader is as csv.NewReader makes it.
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

func main() {
	reuse := flag.Bool("reuse", false, "reuse the record slice between rows")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: csvread [-reuse] FILE")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer f.Close()
	start := time.Now()
	r := csv.NewReader(bufio.NewReaderSize(f, 1<<16))
	r.ReuseRecord = *reuse
	r.FieldsPerRecord = -1
	rows := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		rows++
	}
	fmt.Printf("%d %.3f\n", rows-1, time.Since(start).Seconds())
}
