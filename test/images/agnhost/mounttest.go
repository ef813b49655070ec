package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"
	"time"
)

// tmpfsMagic is statfs's f_type of a tmpfs.
const tmpfsMagic = 0x01021994

// newFileContent is what mounttest writes into the new files it makes.
const newFileContent = "mount-tester new file\n"

// mounttest reports on files and mounts in the lines the Kubernetes e2e
// tests read from agnhost's "mounttest" mode (their output is the
// interface; the code is minilet's): each flag names a path, and every
// check runs; it fails (status 1) when one did.
func mounttest(args []string) error {
	fs := flag.NewFlagSet("mounttest", flag.ContinueOnError)
	fsType := fs.String("fs_type", "", "path to print the fs type of")
	fileMode := fs.String("file_mode", "", "path to print the mode of")
	filePerm := fs.String("file_perm", "", "path to print the permission bits of")
	fileOwner := fs.String("file_owner", "", "path to print the owning UID and GID of")
	content := fs.String("file_content", "", "path to print the content of")
	loop := fs.String("file_content_in_loop", "", "path to print the content of every 2 s")
	retry := fs.Int("retry_time", 180, "seconds file_content_in_loop goes on")
	breakOnExpected := fs.Bool("break_on_expected_content", true, "file_content_in_loop stops once the file holds what new_file_* write")
	newFiles := map[os.FileMode]*string{}
	for _, perm := range []os.FileMode{0o644, 0o666, 0o660, 0o777} {
		newFiles[perm] = fs.String(fmt.Sprintf("new_file_%04o", perm), "", "path to write and read back with this mode")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	syscall.Umask(0)
	var failed bool
	note := func(err error) {
		if err != nil {
			failed = true
		}
	}
	if *fsType != "" {
		note(printFsType(*fsType))
	}
	for _, perm := range []os.FileMode{0o644, 0o666, 0o660, 0o777} {
		if p := *newFiles[perm]; p != "" {
			if err := os.WriteFile(p, []byte(newFileContent), perm); err != nil {
				fmt.Printf("error writing new file %q: %v\n", p, err)
				note(err)
				continue
			}
			note(printContent(p))
		}
	}
	if *fileMode != "" {
		note(printStat(*fileMode, func(fi os.FileInfo) string { return fmt.Sprintf("mode of file %q: %v", *fileMode, fi.Mode()) }))
	}
	if *filePerm != "" {
		note(printStat(*filePerm, func(fi os.FileInfo) string { return fmt.Sprintf("perms of file %q: %v", *filePerm, fi.Mode().Perm()) }))
	}
	if *fileOwner != "" {
		note(printOwner(*fileOwner))
	}
	if *content != "" {
		note(printContent(*content))
	}
	if *loop != "" {
		note(contentInLoop(*loop, time.Duration(*retry)*time.Second, *breakOnExpected))
	}
	if failed {
		return errors.New("a check failed")
	}
	return nil
}

func printContent(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Printf("error reading file content for %q: %v\n", path, err)
		return err
	}
	fmt.Printf("content of file %q: %s\n", path, b)
	return nil
}

func printFsType(path string) error {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		fmt.Printf("error from statfs(%q): %v\n", path, err)
		return err
	}
	if st.Type == tmpfsMagic {
		fmt.Printf("mount type of %q: tmpfs\n", path)
	} else {
		fmt.Printf("mount type of %q: %v\n", path, st.Type)
	}
	return nil
}

func printStat(path string, line func(os.FileInfo) string) error {
	fi, err := os.Stat(path)
	if err != nil {
		fmt.Printf("error from Stat(%q): %v\n", path, err)
		return err
	}
	fmt.Println(line(fi))
	return nil
}

func printOwner(path string) error {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		fmt.Printf("error from stat(%q): %v\n", path, err)
		return err
	}
	fmt.Printf("owner UID of %q: %v\n", path, st.Uid)
	fmt.Printf("owner GID of %q: %v\n", path, st.Gid)
	return nil
}

// contentInLoop prints the file every 2 s for up to d; with stop, it ends
// once the file holds newFileContent.
func contentInLoop(path string, d time.Duration, stop bool) error {
	var err error
	for start := time.Now(); time.Since(start) < d; time.Sleep(2 * time.Second) {
		var b []byte
		if b, err = os.ReadFile(path); err != nil {
			fmt.Printf("Error reading file %s: %v, retrying\n", path, err)
			continue
		}
		fmt.Printf("content of file %q: %s\n", path, b)
		if !stop {
			continue
		}
		if string(b) == newFileContent {
			return nil
		}
		fmt.Printf("Unexpected content. Expected: %s. Retrying\n", newFileContent)
	}
	return err
}
