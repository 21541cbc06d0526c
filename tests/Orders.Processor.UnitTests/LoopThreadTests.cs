using Orders.Processor.Loop;

namespace Orders.Processor.UnitTests;

public sealed class LoopThreadTests
{
    [Fact]
    public void Run_ResumesEveryAwait_OnTheThreadThatRunsIt()
    {
        var threads = new List<int>();
        var thread = new Thread(() => LoopThread.Run(async () =>
        {
            for (var i = 0; i < 5; i++)
            {
                threads.Add(Environment.CurrentManagedThreadId);
                // Completed from another thread, later: without the context the loop would resume there.
                var later = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = Task.Run(later.SetResult, TestContext.Current.CancellationToken);
                await later.Task;
            }

            threads.Add(Environment.CurrentManagedThreadId);
        }))
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the loop never ended");

        Assert.Equal(6, threads.Count);
        Assert.All(threads, id => Assert.Equal(thread.ManagedThreadId, id));
    }

    [Fact]
    public void Run_ReturnsTheResult_AndRethrowsTheBodysException()
    {
        Assert.Equal(42, LoopThread.Run(async () =>
        {
            await Task.Yield();
            return 42;
        }));

        var thrown = Assert.Throws<InvalidOperationException>(() => LoopThread.Run(async () =>
        {
            await Task.Yield();
            throw new InvalidOperationException("fatal");
        }));
        Assert.Equal("fatal", thrown.Message);
    }

    [Fact]
    public void Wait_OnTheLoopsThread_DoesNotDeadlock_OnAnAwaitInsideTheCall()
    {
        // A rebalance callback waits for the registry inside the poll: the call's own awaits must not
        // be posted to the loop's thread, which is blocked waiting for them.
        var result = 0;
        SynchronizationContext? after = null;
        var thread = new Thread(() => LoopThread.Run(async () =>
        {
            await Task.Yield();
            result = LoopThread.Wait(async () =>
            {
                var later = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
                _ = Task.Run(() => later.SetResult(7), TestContext.Current.CancellationToken);
                return await later.Task + 1;
            });
            after = SynchronizationContext.Current;
        }))
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the wait deadlocked");
        Assert.Equal(8, result);
        // The loop's context is back once the wait is over.
        Assert.IsType<LoopThread>(after);
    }

    [Fact]
    public void WorkTheLoopStarted_CompletesOnItsThread_AtItsNextTurn()
    {
        // Work started by the loop, polled for by the loop, which
        // meanwhile never awaits (it blocks in librdkafka's poll).
        int? completedOn = null;
        var turns = 0;
        var thread = new Thread(() => LoopThread.Run(() =>
        {
            var registration = RegisterAsync();
            while (!registration.IsCompleted && turns < 3000)
            {
                turns++;
                Thread.Sleep(1); // the poll
                LoopThread.RunPosted();
            }

            return Task.CompletedTask;
        }))
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the loop never ended");
        Assert.Equal(thread.ManagedThreadId, completedOn);
        Assert.True(turns < 3000, "the registration never completed");

        async Task RegisterAsync()
        {
            var answer = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _ = Task.Run(answer.SetResult, TestContext.Current.CancellationToken);
            await answer.Task;
            completedOn = Environment.CurrentManagedThreadId;
        }
    }

    [Fact]
    public void Suppressed_AHandlerStartedByTheLoop_EndsOffItsThread_WhileTheLoopBlocks()
    {
        // Handlers are started by the loop and may be slow: their awaits must not wait for the
        // loop's thread, which sits in a blocking wait for their completions.
        int? endedOn = null;
        var ended = new ManualResetEventSlim();
        var waited = false;
        var thread = new Thread(() => LoopThread.Run(() =>
        {
            using (LoopThread.Suppressed())
            {
                _ = HandleAsync();
            }

            waited = ended.Wait(TimeSpan.FromSeconds(20));
            return Task.CompletedTask;
        }))
        { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the loop never ended");
        Assert.True(waited, "the handler's continuation waited for the blocked loop thread");
        Assert.NotEqual(thread.ManagedThreadId, endedOn);

        async Task HandleAsync()
        {
            await Task.Delay(10, TestContext.Current.CancellationToken);
            endedOn = Environment.CurrentManagedThreadId;
            ended.Set();
        }
    }
}
