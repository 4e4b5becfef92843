// Package data brings pictures to convscope's models: the datasets they
// are trained and evaluated on, and the conversion of any picture (a
// sample, an upload, a drawing) into a model's input tensor.
//
// # Datasets
//
// MNIST and Fashion-MNIST come as IDX files: four per dataset,
//
//	train-images-idx3-ubyte  60000 pictures, 28x28 bytes each
//	train-labels-idx1-ubyte  60000 labels, one byte each
//	t10k-images-idx3-ubyte   10000 test pictures
//	t10k-labels-idx1-ubyte   10000 test labels
//
// each raw or gzipped (".gz", as they are served). ReadIDXImages and
// ReadIDXLabels read one stream, LoadIDX a pair of files into a Set, and
// Open a whole split by dataset name:
//
//	s, err := data.Open("fashion-mnist", flagDir, false) // the test split
//	x := s.Float(0, 0.2860, 0.3530) // 784 values; the training set mean, std
//	fmt.Println(s.Classes[s.Labels[0]]) // "Ankle boot"
//
// Open finds a dataset in the first of these directories that holds its
// four files (Find, SearchDirs):
//
//	flagDir, flagDir/<name>            the command's data flag
//	$CONVSCOPE_DATA/<name>, $CONVSCOPE_DATA
//	~/.cache/convscope/<name>          where Download puts it
//	/usr/share/datasets/<name>         Debian's dataset-fashion-mnist
//
// and otherwise downloads it from its official address into the cache,
// checking each file's SHA-256 and MD5 (Download). Offline, the error
// lists the directories and the file names, so the files can be put there
// by hand.
//
// Shapes: a Set's Images are (N,H,W) bytes; Set.Float gives one picture
// as H*W float32 values, the (1,H,W) input of a grey model.
package data
