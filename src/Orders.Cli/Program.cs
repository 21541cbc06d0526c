using Orders.Cli;

return await OrdersCli.RunAsync(args, Console.Out, Console.Error);
