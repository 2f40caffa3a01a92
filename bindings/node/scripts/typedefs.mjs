// index.d.ts from the declarations napi-derive writes while cargo compiles the addon with
// NAPI_TYPE_DEF_TMP_FOLDER set (scripts/test.sh sets it), rendered as `napi build --platform`
// renders them, without the napi CLI's own cargo build (it forces --target and so rebuilds every
// dependency in a second directory). `--check` fails when the committed file differs instead.
// Usage: node scripts/typedefs.mjs [--check]   (from bindings/node)
import { readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTypeDef } from '@napi-rs/cli'

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..')
const typeDefDir = process.env.NAPI_TYPE_DEF_TMP_FOLDER ?? join(pkg, '../../target/napi-types')
const { exports, dts } = await generateTypeDef({
  typeDefDir,
  cwd: pkg,
  // The root loader of a --platform build declares its binding target once anything is exported.
  declareBindingTarget: (exported) => exported.length > 0,
})
if (exports.length === 0) {
  console.error(`no type definitions in ${typeDefDir}: build the addon with NAPI_TYPE_DEF_TMP_FOLDER set`)
  process.exit(1)
}
const file = join(pkg, 'index.d.ts')
if (process.argv.includes('--check')) {
  if ((await readFile(file, 'utf8')) !== dts) {
    console.error('bindings/node/index.d.ts is out of date: run `node scripts/typedefs.mjs` in bindings/node')
    process.exit(1)
  }
  console.error(`index.d.ts matches the addon (${exports.length} exports)`)
} else {
  await writeFile(file, dts)
  console.error(`wrote index.d.ts (${exports.length} exports)`)
}
