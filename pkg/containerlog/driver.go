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
//
// A container with stdin adds the fifo and the attach socket the driver
// holds (see Stdin).
func DriverArgs(path string, maxSize int64, maxFiles int, stdin Stdin) map[string]string {
	args := map[string]string{
		DriverCommand: path,
		"--max-size":  strconv.FormatInt(maxSize, 10),
		"--max-files": strconv.Itoa(maxFiles),
	}
	if stdin.FIFO != "" {
		args["--stdin"] = stdin.FIFO
		args["--attach"] = stdin.Socket
		args["--stdin-once"] = strconv.FormatBool(stdin.Once)
	}
	return args
}
