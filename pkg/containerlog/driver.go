package containerlog

import "strconv"

// DriverCommand is minilet's hidden subcommand that runs a Writer as
// containerd's shim logging binary.
const DriverCommand = "log-driver"

// DriverArgs returns the arguments of `minilet log-driver` that writes
// the log at path, for containerd's cio.BinaryIO(minilet, args).
//
// The shim turns the map into the logging binary's argv as key, value
// pairs in no fixed order, so the subcommand's name is a key and the
// log's path its value; the binary then runs as, for example,
//
//	minilet --max-files 5 log-driver /var/log/pods/ns_web_uid/app/0.log --max-size 10485760
func DriverArgs(path string, maxSize int64, maxFiles int) map[string]string {
	return map[string]string{
		DriverCommand: path,
		"--max-size":  strconv.FormatInt(maxSize, 10),
		"--max-files": strconv.Itoa(maxFiles),
	}
}
