// The environment a host server or the host probe starts from: the runner's, without the step's
// inputs (INPUT_HF-TOKEN among them) and without the job's Actions service tokens, which no model
// code needs. (A container gets only the variables named with --env.)
const JOB_SECRETS = /^(ACTIONS_(RUNTIME_TOKEN|RUNTIME_URL|RESULTS_URL|CACHE_URL|ID_TOKEN_REQUEST_TOKEN|ID_TOKEN_REQUEST_URL)|GITHUB_TOKEN)$/;

export function serverBaseEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('INPUT_') && !JOB_SECRETS.test(key)));
}
