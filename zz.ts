import { runProgram } from "./offline/mockRuntime";
import { readStackFile } from "./offline/stackFile";
(async () => {
  const r = await runProgram({ config: readStackFile("dev").config });
  for (const x of r.resources)
    console.log(
      x.type,
      x.name,
      x.parent.split("::").pop(),
      JSON.stringify(x.inputs),
      x.dependencies.map((d) => d.split("::").pop()),
    );
  console.log(JSON.stringify(r.outputs, null, 1));
})();
