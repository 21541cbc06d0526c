using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Orders.Benchmarks.SerializerBenchmarks).Assembly).Run(args);
