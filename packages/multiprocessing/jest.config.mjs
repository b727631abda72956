import base from '../../tooling/jest/jest.base.mjs';
export default { ...base };
