package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
)

// cmdFmt rewrites configuration files in the canonical HCL layout
// (hclwrite's: aligned equals signs, two-space indent). With -check it
// changes nothing, lists the files that are not formatted and exits 1, for
// CI. A file with a syntax error is reported and left alone.
func cmdFmt(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fmt", flag.ContinueOnError)
	fs.SetOutput(stderr)
	check := fs.Bool("check", false, "change nothing; list the files that are not formatted and exit 1 if there are any")
	fs.Usage = func() {}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "Usage of scimbridge fmt: scimbridge fmt [-check] FILE...  (default: $SCIMBRIDGE_CONFIG)\n")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		fs.PrintDefaults()
		return 2
	}
	files := fs.Args()
	if len(files) == 0 {
		if p := os.Getenv("SCIMBRIDGE_CONFIG"); p != "" {
			files = []string{p}
		} else {
			fmt.Fprintln(stderr, "scimbridge fmt: name the files to format (or set SCIMBRIDGE_CONFIG)")
			return 2
		}
	}
	code := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintf(stderr, "scimbridge fmt: %v\n", err)
			code = 1
			continue
		}
		if _, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos); diags.HasErrors() {
			printDiagnostics(stderr, map[string]*hcl.File{path: {Bytes: src}}, diags)
			code = 1
			continue
		}
		out := hclwrite.Format(src)
		if bytes.Equal(out, src) {
			continue
		}
		if *check {
			fmt.Fprintln(stdout, path)
			code = 1
			continue
		}
		info, err := os.Stat(path)
		if err == nil {
			err = os.WriteFile(path, out, info.Mode().Perm())
		}
		if err != nil {
			fmt.Fprintf(stderr, "scimbridge fmt: %v\n", err)
			code = 1
			continue
		}
		fmt.Fprintln(stdout, path)
	}
	return code
}
