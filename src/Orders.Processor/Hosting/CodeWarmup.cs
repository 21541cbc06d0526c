using System.Diagnostics;
using System.Reflection;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Orders.Processor.Observability;

namespace Orders.Processor.Hosting;

/// <summary>
/// Compiles the processor's own code ahead, on a thread of its own, while the processor starts
/// (resolves its topics, probes the broker, joins its group). Without it, a processor starting into
/// a backlog compiles each method of the record path (decoding, validation, the aggregate, the
/// loop's bookkeeping) on its loop thread at the method's first call, during its first records.
/// </summary>
/// <remarks>
/// <para>
/// Every method with a body of the non-generic types of <see cref="Assemblies"/> is prepared
/// (<see cref="RuntimeHelpers.PrepareMethod(RuntimeMethodHandle)"/>): compiled at the tier its first
/// call would have given it, or its ReadyToRun code looked up, so tiered compilation goes on as
/// after a first call. The methods are compiled, not called: no state is touched. A method that
/// cannot be prepared is compiled at its first call, as without this.
/// </para>
/// <para>
/// Once per process (the first processor started; later ones find the code compiled). It took
/// 110-250 ms of its thread for ~2,400 methods on a 2-core machine, started before the broker is
/// first asked, beside the topics' resolution and the group join, which mostly wait on the network.
/// Measured in docs/BENCHMARKS.md ("ninth session"): cold drains of 400,000 orders a median ~13%
/// faster without the HTTP endpoint and ~6% with it, and the processor's start-up shorter.
/// </para>
/// </remarks>
internal static class CodeWarmup
{
    private static int _started;

    /// <summary>The processor's assemblies: the record path's code and the loop's.</summary>
    internal static IReadOnlyList<Assembly> Assemblies { get; } =
    [
        typeof(CodeWarmup).Assembly,
        typeof(Decoding.OrderDecoder).Assembly,
        typeof(Avro.ResolvingReader).Assembly,
        typeof(Contracts.Order).Assembly,
    ];

    /// <summary>Starts compiling on a background thread, the first time in this process.</summary>
    /// <returns>Whether this call started it (false once any call has).</returns>
    public static bool Start(ILogger logger)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            return false;
        }

        var thread = new Thread(() =>
        {
            var started = Stopwatch.GetTimestamp();
            var (prepared, failed) = PrepareAll();
            Log.CompiledAhead(logger, prepared, failed, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        })
        {
            IsBackground = true,
            Name = "orders warm-up",
        };
        thread.Start();
        return true;
    }

    /// <summary>Prepares every method of <see cref="Assemblies"/> that can be compiled without a type argument.</summary>
    /// <returns>How many methods were prepared, and how many could not be.</returns>
    internal static (int Prepared, int Failed) PrepareAll()
    {
        var (prepared, failed) = (0, 0);
        foreach (var method in Methods())
        {
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
                prepared++;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // Compiled at its first call instead.
                failed++;
            }
        }

        return (prepared, failed);
    }

    /// <summary>The methods <see cref="PrepareAll"/> prepares: those with a body, of types and methods without type parameters.</summary>
    internal static IEnumerable<MethodBase> Methods()
    {
        const BindingFlags declared = BindingFlags.DeclaredOnly | BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        foreach (var assembly in Assemblies)
        {
            foreach (var type in Types(assembly))
            {
                if (type.ContainsGenericParameters || type.IsInterface)
                {
                    continue;
                }

                foreach (var method in type.GetMethods(declared).Cast<MethodBase>().Concat(type.GetConstructors(declared)))
                {
                    if (!method.IsAbstract && !method.ContainsGenericParameters && HasBody(method))
                    {
                        yield return method;
                    }
                }
            }
        }
    }

    private static bool HasBody(MethodBase method) =>
        (method.MethodImplementationFlags & (MethodImplAttributes.InternalCall | MethodImplAttributes.Runtime)) == 0 &&
        (method.Attributes & MethodAttributes.PinvokeImpl) == 0;

    private static Type[] Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            // The types that did load; the others are compiled at their first call.
            return [.. e.Types.OfType<Type>()];
        }
    }
}
