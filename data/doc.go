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
//
// # Colour datasets, image folders, training batches
//
// An ImageSet is N labelled pictures of (C,H,W) bytes, the form every
// dataset takes for training: Set.ImageSet for IDX, OpenCIFAR for CIFAR-10
// and CIFAR-100 (the binary version, cifar-10-batches-bin/*.bin and
// cifar-100-binary/*.bin, found in the same directories as above, the
// folder itself or the directory holding it, else downloaded as the
// official .tar.gz, checksummed, and extracted into the cache), LoadFolder
// for torchvision-style image folders (root/<class>/<picture>, JPEG, PNG,
// GIF, WebP). OpenImages opens any named one. Its Len, Shape and Fill are
// train.Source's, with per-channel Mean and Std:
//
//	tr, err := data.OpenImages("cifar10", flagDir, true) // (50000,3,32,32)
//	tr.Mean, tr.Std = data.CIFAR10Mean, data.CIFAR10Std
//
// For augmentation, transforms named as torchvision's (Resize, CenterCrop,
// RandomCrop, RandomHorizontalFlip, RandomResizedCrop, Normalize,
// RandomErasing, Compose) act on one (C,H,W) tensor with an explicit
// *rand.Rand, and a Loader makes shuffled (N,C,H,W) batches on worker
// goroutines, reproducible from its seed:
//
//	l := &data.Loader{Data: tr, BatchSize: 128, Shuffle: true, Seed: 1,
//		Transform: data.Compose{
//			data.RandomCrop{Height: 32, Width: 32, Padding: 4},
//			data.RandomHorizontalFlip{P: 0.5},
//			data.Normalize{Mean: data.CIFAR10Mean, Std: data.CIFAR10Std},
//		}}
//	for b, err := range l.Epoch(ctx, epoch) { ... }
//
// (there, tr's own Mean and Std stay empty: Normalize comes after the
// padding, as in torchvision).
package data
